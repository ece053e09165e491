package securechannel

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// The fixed-key ECIES transcript (docs/protocol-divergences.md "Test
// vectors"), first proven against the real vodozemac (wasm 18.9.0) in both
// roles.
const (
	vecGs            = "0a028395d8e9b6b21c890355276a6c85cbaa786567dfdcb56a1c12de49560d43"
	vecGp            = "EW1Q2z//zks+SEbAHMFNWybM8ZLbKRGlgMEC1tfF3CE"
	vecSs            = "8e37d40c280dd0f4f7ae999ce346841bc984c30d4ae1431b3519acf18a76171f"
	vecSp            = "F/Ny19wlZVKRVYviNDOwkTHv0IW1EaJSZdOIOJma4Co"
	vecKeyS          = "a39e85484e7c4f20da286d69f375e60db966886c0dfc0006fc637750d0f20074"
	vecKeyG          = "67fa1858d972b4c08dfe0f3df100cb056ac11a57d98953386c0f1457165bf028"
	vecInitiate      = "AJ3iVEJQcuHMNK1YpS8znaLJzW2eX3JCS2qdeUiY8efMI4CDGzToam41bl8U|F/Ny19wlZVKRVYviNDOwkTHv0IW1EaJSZdOIOJma4Co"
	vecOk            = "Q6Gz15/dgR0v6J0bqKC6KtvAQgTs9ZyvEF2xGIbYfwERsjus+LfV"
	vecCheckCode     = "49"
	vecSecondPlain   = `{"type":"m.login.protocols","protocols":["device_authorization_grant"],"homeserver":"https://matrix-client.matrix.org/"}`
	vecSecondMessage = "7hVGG2wBNTDANgUuYC90XMrcC9r7rUN8k5p913jga7bGW0QoY22QZ4hQE8aXJYo31/6TIS86sd2JQeWUfzDBQ0lKfbjvuJS5S8aUi+iEpz65hIHL6yqNzYDxHnsa+sIbE1nuHFAaGnBKMKx8uBcFkOsfSCSnU9bIWutvMtMMb/EJivvOT7MXzw"
)

func mustX25519(t testing.TB, hexKey string) *ecdh.PrivateKey {
	t.Helper()
	raw, err := hex.DecodeString(hexKey)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ecdh.X25519().NewPrivateKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestECIESVectorKeySchedule(t *testing.T) {
	gs, ss := mustX25519(t, vecGs), mustX25519(t, vecSs)
	if got := encodeBase64(gs.PublicKey().Bytes()); got != vecGp {
		t.Fatalf("Gp = %s, want %s", got, vecGp)
	}
	if got := encodeBase64(ss.PublicKey().Bytes()); got != vecSp {
		t.Fatalf("Sp = %s, want %s", got, vecSp)
	}
	gp, sp := gs.PublicKey().Bytes(), ss.PublicKey().Bytes()
	fromG, err := deriveECIES(gs, ss.PublicKey(), gp, sp)
	if err != nil {
		t.Fatal(err)
	}
	fromS, err := deriveECIES(ss, gs.PublicKey(), gp, sp)
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]eciesSecrets{"G": fromG, "S": fromS} {
		if got := hex.EncodeToString(s.keyS[:]); got != vecKeyS {
			t.Errorf("%s: key S = %s, want %s", name, got, vecKeyS)
		}
		if got := hex.EncodeToString(s.keyG[:]); got != vecKeyG {
			t.Errorf("%s: key G = %s, want %s", name, got, vecKeyG)
		}
		if got := s.check.String(); got != vecCheckCode {
			t.Errorf("%s: check code = %s, want %s", name, got, vecCheckCode)
		}
	}
}

// S with the fixed key produces the vector's LoginInitiate, accepts the
// vector's LoginOk, shows "49" and seals its second message with nonce 1.
func TestECIESVectorScanner(t *testing.T) {
	ctx := testContext(t)
	gs, ss := mustX25519(t, vecGs), mustX25519(t, vecSs)
	sess := &eciesScript{incoming: []string{vecOk}}
	ch, err := scanECIESWithKey(ctx, gs.PublicKey(), ss, sess)
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	if len(sess.sent) != 1 || sess.sent[0] != vecInitiate {
		t.Fatalf("initiate = %q, want %q", sess.sent, vecInitiate)
	}
	if ch.CheckCode().String() != vecCheckCode || ch.Generation() != vocab.MSC4108v2024 {
		t.Fatalf("check code %s generation %s", ch.CheckCode(), ch.Generation())
	}
	if err := ch.Send(ctx, []byte(vecSecondPlain)); err != nil {
		t.Fatal(err)
	}
	if sess.sent[1] != vecSecondMessage {
		t.Fatalf("second message = %s, want %s", sess.sent[1], vecSecondMessage)
	}
}

// G with the fixed key accepts the vector's LoginInitiate, answers with the
// vector's LoginOk (nonce 0 under key G) and opens S's second message.
func TestECIESVectorGenerator(t *testing.T) {
	ctx := testContext(t)
	gs := mustX25519(t, vecGs)
	sess := &eciesScript{incoming: []string{vecInitiate, vecSecondMessage}}
	ch, err := acceptECIES(ctx, gs, sess)
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	if len(sess.sent) != 1 || sess.sent[0] != vecOk {
		t.Fatalf("ok = %q, want %q", sess.sent, vecOk)
	}
	if ch.CheckCode().String() != vecCheckCode {
		t.Fatalf("check code %s", ch.CheckCode())
	}
	if err := ch.Send(ctx, []byte("too early")); !errors.Is(err, ErrNotConfirmed) {
		t.Fatalf("send before confirm: %v", err)
	}
	pt, err := ch.Receive(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if string(pt) != vecSecondPlain {
		t.Fatalf("second message = %s", pt)
	}
}

// The public entry points (NewGenerator/Accept and Scan) pair up over the
// in-memory rendezvous server, agree on the check code and carry messages
// both ways in order.
func TestECIESPairThroughPublicAPI(t *testing.T) {
	p := mustPair(t, defaultPairOptions(vocab.MSC4108v2024))
	defer p.g.Close()
	defer p.s.Close()
	if p.g.Generation() != vocab.MSC4108v2024 || p.s.Generation() != vocab.MSC4108v2024 {
		t.Fatalf("generations %s / %s", p.g.Generation(), p.s.Generation())
	}
	if p.g.CheckCode() != p.s.CheckCode() {
		t.Fatalf("check codes differ: G %s, S %s", p.g.CheckCode(), p.s.CheckCode())
	}
	if err := p.g.Confirm(p.s.CheckCode().String()); err != nil {
		t.Fatal(err)
	}
	exchange(t, p.g, p.s, 3)
	// On the wire: the initiate (ct|Sp), LoginOk, then 3+3 messages, all
	// unpadded base64 and none carrying a plaintext.
	writes := p.srv.writes()
	if len(writes) != 8 || strings.Count(writes[0], "|") != 1 {
		t.Fatalf("writes %q", writes)
	}
	for _, w := range writes {
		if strings.Contains(w, "=") || strings.Contains(w, "MATRIX") || strings.Contains(w, "type") {
			t.Fatalf("suspicious write %q", w)
		}
	}
}

// A shoulder-surfer who scanned the QR code too and replaces S's initiate
// with its own (MSC4388 "Threat analysis", the same for ECIES): G cannot
// tell, but S cannot open the LoginOk, so it never shows a check code, and
// the code G expects is one only the attacker can compute.
func TestECIESSubstitutedInitiate(t *testing.T) {
	g, err := NewGenerator(vocab.MSC4108v2024, "")
	if err != nil {
		t.Fatal(err)
	}
	gp := g.PublicKey()
	gpKey, err := ecdh.X25519().NewPublicKey(gp)
	if err != nil {
		t.Fatal(err)
	}
	attacker := mustX25519(t, vecSs)
	var attackerCode CheckCode
	srv := newMemServer()
	srv.tamper = func(_ *memSession, payload string, history []string) string {
		if len(history) != 0 {
			return payload
		}
		sp := attacker.PublicKey().Bytes()
		s, err := deriveECIES(attacker, gpKey, gp, sp)
		if err != nil {
			t.Error(err)
			return payload
		}
		attackerCode = s.check
		ct, err := newECIESCipher(s.keyS, s.keyG).sealBytes([]byte(eciesInitiatePlaintext))
		if err != nil {
			t.Error(err)
			return payload
		}
		return encodeECIESInitiate(eciesInitiate{ciphertext: ct, senderKey: sp})
	}
	p := runHandshake(t, srv,
		func(ctx context.Context, sess Transport) (*Channel, error) {
			return g.Accept(ctx, sess, Binding{})
		},
		func(ctx context.Context, sess Transport) (*Channel, error) {
			return Scan(ctx, vocab.MSC4108v2024, "", sess, gp, Binding{})
		})
	if p.gErr != nil {
		t.Fatalf("G: %v", p.gErr)
	}
	defer p.g.Close()
	if !errors.Is(p.sErr, ErrHandshake) || !errors.Is(p.sErr, ErrDecrypt) {
		t.Fatalf("S: %v", p.sErr)
	}
	if p.g.CheckCode() != attackerCode {
		t.Fatalf("G expects %s, the attacker computed %s", p.g.CheckCode(), attackerCode)
	}
}

// validInitiate builds an initiate message for G's vector key from a fresh S,
// optionally with another plaintext.
func validInitiate(t *testing.T, plaintext string) string {
	t.Helper()
	gs, ss := mustX25519(t, vecGs), mustX25519(t, vecSs)
	s, err := deriveECIES(ss, gs.PublicKey(), gs.PublicKey().Bytes(), ss.PublicKey().Bytes())
	if err != nil {
		t.Fatal(err)
	}
	c := newECIESCipher(s.keyS, s.keyG)
	ct, err := c.sealBytes([]byte(plaintext))
	if err != nil {
		t.Fatal(err)
	}
	return encodeECIESInitiate(eciesInitiate{ciphertext: ct, senderKey: ss.PublicKey().Bytes()})
}

func flipBase64Char(s string, i int) string {
	b := []byte(s)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestECIESGeneratorRejectsBadInitiate(t *testing.T) {
	ctB64, keyB64, _ := strings.Cut(vecInitiate, "|")
	zeroKey := encodeBase64(make([]byte, 32))
	tests := []struct {
		name    string
		wire    string
		decrypt bool // the error must also match ErrDecrypt
	}{
		{"empty", "", false},
		{"no separator", ctB64 + keyB64, false},
		{"two separators", ctB64 + "|" + keyB64 + "|", false},
		{"ciphertext not base64", "!!" + ctB64[2:] + "|" + keyB64, false},
		{"key not base64", ctB64 + "|" + keyB64[:10] + "*" + keyB64[11:], false},
		{"url-safe alphabet", strings.NewReplacer("/", "_", "+", "-").Replace(vecInitiate), false},
		{"line break", ctB64[:10] + "\n" + ctB64[10:] + "|" + keyB64, false},
		{"key 31 bytes", ctB64 + "|" + encodeBase64(make([]byte, 31)), false},
		{"key 33 bytes", ctB64 + "|" + encodeBase64(make([]byte, 33)), false},
		{"ciphertext shorter than tag", encodeBase64(make([]byte, 15)) + "|" + keyB64, false},
		{"low-order key (all-zero shared secret)", ctB64 + "|" + zeroKey, false},
		{"tampered ciphertext", flipBase64Char(ctB64, 3) + "|" + keyB64, true},
		{"tampered key", ctB64 + "|" + flipBase64Char(keyB64, 5), true},
		{"wrong plaintext", validInitiate(t, "MATRIX_QR_CODE_LOGIN_INITIATE "), false},
		{"ok message instead of initiate", vecOk, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sess := &eciesScript{incoming: []string{tc.wire}}
			ch, err := acceptECIES(testContext(t), mustX25519(t, vecGs), sess)
			if err == nil {
				ch.Close()
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrHandshake) {
				t.Fatalf("error %v is not ErrHandshake", err)
			}
			if tc.decrypt && !errors.Is(err, ErrDecrypt) {
				t.Fatalf("error %v is not ErrDecrypt", err)
			}
			if len(sess.sent) != 0 {
				t.Fatalf("G answered a bad initiate: %q", sess.sent)
			}
		})
	}
	// A well-formed initiate for the same key passes, so the table above
	// fails for the reasons it names.
	sess := &eciesScript{incoming: []string{validInitiate(t, eciesInitiatePlaintext)}}
	ch, err := acceptECIES(testContext(t), mustX25519(t, vecGs), sess)
	if err != nil {
		t.Fatal(err)
	}
	ch.Close()
}

// vodozemac accepts padded base64 as well; so do we.
func TestECIESGeneratorAcceptsPaddedBase64(t *testing.T) {
	ctB64, keyB64, _ := strings.Cut(vecInitiate, "|")
	repad := func(s string) string {
		b, err := base64.RawStdEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(b)
	}
	padded := repad(ctB64) + "|" + repad(keyB64)
	if padded == vecInitiate || !strings.Contains(padded, "=") {
		t.Fatal("test vector has no padding to add")
	}
	sess := &eciesScript{incoming: []string{padded, repad(vecSecondMessage)}}
	ch, err := acceptECIES(testContext(t), mustX25519(t, vecGs), sess)
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	if sess.sent[0] != vecOk {
		t.Fatalf("ok = %s; output must stay unpadded", sess.sent[0])
	}
	if pt, err := ch.Receive(testContext(t), 0); err != nil || string(pt) != vecSecondPlain {
		t.Fatalf("padded second message: %q %v", pt, err)
	}
}

func TestECIESScannerRejectsBadOk(t *testing.T) {
	// G's key schedule for the vector, to build LoginOk variants.
	gs, ss := mustX25519(t, vecGs), mustX25519(t, vecSs)
	s, err := deriveECIES(gs, ss.PublicKey(), gs.PublicKey().Bytes(), ss.PublicKey().Bytes())
	if err != nil {
		t.Fatal(err)
	}
	okWith := func(nonceSkip int, plaintext string) string {
		c := newECIESCipher(s.keyG, s.keyS)
		for range nonceSkip {
			if _, err := c.sealBytes(nil); err != nil {
				t.Fatal(err)
			}
		}
		w, err := c.seal(nil, []byte(plaintext))
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	if okWith(0, eciesOkPlaintext) != vecOk {
		t.Fatal("test helper does not reproduce the vector's LoginOk")
	}
	tests := []struct {
		name    string
		wire    string
		decrypt bool
	}{
		{"not base64", "%%%", true},
		{"tampered", flipBase64Char(vecOk, 4), true},
		{"nonce 1 as in the 2024 MSC text", okWith(1, eciesOkPlaintext), true},
		{"initiate echoed back", vecInitiate, true},
		{"wrong plaintext", okWith(0, "MATRIX_QR_CODE_LOGIN_OK!"), false},
		{"empty plaintext", okWith(0, ""), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sess := &eciesScript{incoming: []string{tc.wire}}
			ch, err := scanECIESWithKey(testContext(t), gs.PublicKey(), ss, sess)
			if err == nil {
				ch.Close()
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrHandshake) || (tc.decrypt && !errors.Is(err, ErrDecrypt)) {
				t.Fatalf("error %v", err)
			}
		})
	}
}

func TestECIESScannerRejectsLowOrderQRKey(t *testing.T) {
	zero, err := ecdh.X25519().NewPublicKey(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	sess := &eciesScript{}
	if _, err := scanECIES(testContext(t), zero, sess); !errors.Is(err, ErrHandshake) {
		t.Fatalf("error %v", err)
	}
	if len(sess.sent) != 0 {
		t.Fatal("S sent an initiate for a low-order key")
	}
}

// establishedVectorPair returns G and S channels from the vector handshake,
// wired to scripts so the test controls what each side receives.
func establishedVectorPair(t *testing.T) (gCh, sCh *Channel, gSess, sSess *eciesScript) {
	t.Helper()
	gSess = &eciesScript{incoming: []string{vecInitiate}}
	gCh, err := acceptECIES(testContext(t), mustX25519(t, vecGs), gSess)
	if err != nil {
		t.Fatal(err)
	}
	sSess = &eciesScript{incoming: []string{vecOk}}
	sCh, err = scanECIESWithKey(testContext(t), mustX25519(t, vecGs).PublicKey(), mustX25519(t, vecSs), sSess)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gCh.Close)
	t.Cleanup(sCh.Close)
	return gCh, sCh, gSess, sSess
}

func TestECIESReplayAndTamperCloseTheChannel(t *testing.T) {
	ctx := testContext(t)
	gCh, sCh, gSess, sSess := establishedVectorPair(t)
	if err := sCh.Send(ctx, []byte("one")); err != nil {
		t.Fatal(err)
	}
	first := sSess.sent[len(sSess.sent)-1]
	gSess.incoming = append(gSess.incoming, first, first)
	if pt, err := gCh.Receive(ctx, 0); err != nil || string(pt) != "one" {
		t.Fatalf("first: %q %v", pt, err)
	}
	if _, err := gCh.Receive(ctx, 0); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("replay: %v", err)
	}
	if _, err := gCh.Receive(ctx, 0); !errors.Is(err, ErrChannelClosed) {
		t.Fatalf("after replay: %v", err)
	}
	if err := gCh.Confirm(vecCheckCode); err != nil {
		t.Fatal(err)
	}
	if err := gCh.Send(ctx, []byte("x")); !errors.Is(err, ErrChannelClosed) {
		t.Fatalf("send after failure: %v", err)
	}

	// Tampering on the other direction.
	sSess.incoming = append(sSess.incoming, flipBase64Char(vecOk, 7))
	if _, err := sCh.Receive(ctx, 0); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("tampered: %v", err)
	}
}

// vodozemac consumes the receive counter even when a message fails to
// decrypt, so a genuine message after a bad one no longer opens. Channel
// closes on the first failure anyway; this pins the cipher's own behaviour.
func TestECIESFailedOpenConsumesCounter(t *testing.T) {
	gs, ss := mustX25519(t, vecGs), mustX25519(t, vecSs)
	s, err := deriveECIES(ss, gs.PublicKey(), gs.PublicKey().Bytes(), ss.PublicKey().Bytes())
	if err != nil {
		t.Fatal(err)
	}
	sender := newECIESCipher(s.keyS, s.keyG)
	receiver := newECIESCipher(s.keyG, s.keyS)
	m0, _ := sender.seal(nil, []byte("zero"))
	m1, _ := sender.seal(nil, []byte("one"))
	if pt, err := receiver.open(nil, m0); err != nil || string(pt) != "zero" {
		t.Fatalf("m0: %q %v", pt, err)
	}
	if _, err := receiver.open(nil, "not base64!"); err == nil {
		t.Fatal("garbage opened")
	}
	if _, err := receiver.open(nil, m1); err == nil {
		t.Fatal("m1 opened after a failure; the counter was not consumed")
	}
	if receiver.recv.counter != 3 {
		t.Fatalf("receive counter = %d, want 3", receiver.recv.counter)
	}
}

func TestECIESNonceIsLittleEndianFromZero(t *testing.T) {
	d := eciesDirection{}
	want := [][eciesNonceSize]byte{{0}, {1}}
	for i, w := range want {
		n, err := d.nextNonce()
		if err != nil || n != w {
			t.Fatalf("nonce %d = %x, %v", i, n, err)
		}
	}
	d.counter = 0x0102
	n, _ := d.nextNonce()
	if n != [eciesNonceSize]byte{0x02, 0x01} {
		t.Fatalf("nonce 0x0102 = %x", n)
	}
	d.counter = ^uint64(0)
	if _, err := d.nextNonce(); !errors.Is(err, errECIESExhausted) {
		t.Fatalf("exhausted counter: %v", err)
	}
}

func TestECIESCheckCodeLeadingZero(t *testing.T) {
	for _, tc := range []struct {
		b0, b1 byte
		want   string
	}{{0, 0, "00"}, {9, 9, "99"}, {255, 255, "55"}, {10, 7, "07"}, {0x86, 0x59, "49"}} {
		if got := eciesCheckCode(tc.b0, tc.b1).String(); got != tc.want {
			t.Errorf("check code %d,%d = %s, want %s", tc.b0, tc.b1, got, tc.want)
		}
	}
	// A phone showing "07" as the number 7 must still match (rust-sdk passes
	// a u8); js-sdk shows "07".
	for _, typed := range []string{"07", "7", " 07 "} {
		ch := &Channel{gen: vocab.MSC4108v2024, cipher: newECIESCipher(eciesKey{}, eciesKey{}), code: eciesCheckCode(10, 7)}
		if err := ch.Confirm(typed); err != nil {
			t.Errorf("Confirm(%q) = %v", typed, err)
		}
	}
	ch := &Channel{gen: vocab.MSC4108v2024, cipher: newECIESCipher(eciesKey{}, eciesKey{}), code: eciesCheckCode(10, 7)}
	if err := ch.Confirm("70"); !errors.Is(err, ErrCheckCodeMismatch) {
		t.Errorf("Confirm(70) = %v", err)
	}
}

func TestECIESCipherRefusesAADAndWorkAfterZero(t *testing.T) {
	c := newECIESCipher(eciesKey{1}, eciesKey{2})
	if _, err := c.seal([]byte("aad"), []byte("x")); !errors.Is(err, errECIESAAD) {
		t.Fatalf("seal with aad: %v", err)
	}
	if _, err := c.open([]byte("aad"), "AAAA"); !errors.Is(err, errECIESAAD) {
		t.Fatalf("open with aad: %v", err)
	}
	c.zero()
	if c.send.key != (eciesKey{}) || c.recv.key != (eciesKey{}) {
		t.Fatal("keys not zeroed")
	}
	if _, err := c.seal(nil, []byte("x")); !errors.Is(err, ErrChannelClosed) {
		t.Fatalf("seal after zero: %v", err)
	}
	if _, err := c.open(nil, vecOk); !errors.Is(err, ErrChannelClosed) {
		t.Fatalf("open after zero: %v", err)
	}
}

func TestECIESKeysNeverPrint(t *testing.T) {
	k := eciesKey{0xde, 0xad, 0xbe, 0xef}
	c := newECIESCipher(k, k)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		for _, arg := range []any{k, &k, c.send, c} {
			out := fmt.Sprintf(verb, arg)
			if strings.Contains(strings.ToLower(out), "dead") || strings.Contains(out, "222") {
				t.Errorf("%s of %T leaks the key: %s", verb, arg, out)
			}
		}
	}
}

// The wire codec reproduces the vector byte for byte.
func TestECIESInitiateCodecRoundTrip(t *testing.T) {
	m, err := parseECIESInitiate(vecInitiate)
	if err != nil {
		t.Fatal(err)
	}
	if encodeBase64(m.senderKey) != vecSp || len(m.ciphertext) != len(eciesInitiatePlaintext)+eciesTagSize {
		t.Fatalf("parsed %x / %d bytes", m.senderKey, len(m.ciphertext))
	}
	if got := encodeECIESInitiate(m); got != vecInitiate {
		t.Fatalf("re-encoded %s", got)
	}
}

func FuzzParseECIESInitiate(f *testing.F) {
	ctB64, keyB64, _ := strings.Cut(vecInitiate, "|")
	for _, seed := range []string{
		vecInitiate, vecOk, "", "|", "||", ctB64 + "|", "|" + keyB64,
		ctB64 + "=|" + keyB64 + "=", ctB64 + "|" + keyB64 + "|" + keyB64,
		"AJ3iVEJQcuHMNK1YpS8z\n|" + keyB64,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, wire string) {
		m, err := parseECIESInitiate(wire)
		if err != nil {
			if !errors.Is(err, ErrHandshake) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(m.senderKey) != eciesKeySize || len(m.ciphertext) < eciesTagSize {
			t.Fatalf("accepted key %d bytes, ciphertext %d bytes", len(m.senderKey), len(m.ciphertext))
		}
		again, err := parseECIESInitiate(encodeECIESInitiate(m))
		if err != nil || !bytes.Equal(again.ciphertext, m.ciphertext) || !bytes.Equal(again.senderKey, m.senderKey) {
			t.Fatalf("round trip changed the message: %v", err)
		}
	})
}

// G's whole accept path on arbitrary input: never a panic, never an answer
// unless the initiate authenticates, always a typed error.
func FuzzECIESAccept(f *testing.F) {
	f.Add(vecInitiate)
	f.Add(vecOk)
	f.Add("AAAA|" + vecSp)
	gs := mustX25519(f, vecGs)
	f.Fuzz(func(t *testing.T, wire string) {
		sess := &eciesScript{incoming: []string{wire}}
		ch, err := acceptECIES(context.Background(), gs, sess)
		if err != nil {
			if !errors.Is(err, ErrHandshake) {
				t.Fatalf("untyped error %v", err)
			}
			if len(sess.sent) != 0 {
				t.Fatal("answered a rejected initiate")
			}
			return
		}
		ch.Close()
		if len(sess.sent) != 1 || sess.sent[0] != vecOk {
			t.Fatalf("accepted %q and answered %q", wire, sess.sent)
		}
	})
}

// The post-handshake decoder on arbitrary input: a typed failure or the
// plaintext, and exactly one counter value used either way.
func FuzzECIESOpen(f *testing.F) {
	f.Add(vecSecondMessage)
	f.Add(vecOk)
	f.Add("")
	f.Add("====")
	gs, ss := mustX25519(f, vecGs), mustX25519(f, vecSs)
	s, err := deriveECIES(gs, ss.PublicKey(), gs.PublicKey().Bytes(), ss.PublicKey().Bytes())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, wire string) {
		c := newECIESCipher(s.keyG, s.keyS)
		c.recv.counter = 1 // S's second message uses nonce 1
		pt, err := c.open(nil, wire)
		if c.recv.counter != 2 {
			t.Fatalf("counter moved to %d", c.recv.counter)
		}
		if err == nil && wire != vecSecondMessage && string(pt) != vecSecondPlain {
			t.Fatalf("forged message opened: %q", pt)
		}
	})
}
