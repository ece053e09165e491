package securechannel

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// hpkeVector is testdata/hpke-vector-6.2.json, the HPKE vector of
// docs/protocol-divergences.md "Test vectors".
type hpkeVector struct {
	GeneratorPrivateHex        string   `json:"generator_private_hex"`
	GeneratorPublicB64         string   `json:"generator_public_b64"`
	ScannerEphemeralPrivateHex string   `json:"scanner_ephemeral_private_hex"`
	ScannerPublicB64           string   `json:"scanner_public_b64"`
	ResponseNonceHex           string   `json:"response_nonce_hex"`
	QRBaseURL                  string   `json:"qr_base_url"`
	AADBaseURL                 string   `json:"aad_base_url"`
	RendezvousID               string   `json:"rendezvous_id"`
	Tokens                     []string `json:"tokens"`
	AADT1PrefixHex             string   `json:"aad_t1_prefix_hex"`
	HPKEKeyHex                 string   `json:"hpke_key_hex"`
	HPKEBaseNonceHex           string   `json:"hpke_base_nonce_hex"`
	HPKEExporterSecretHex      string   `json:"hpke_exporter_secret_hex"`
	LoginInitiate              string   `json:"login_initiate"`
	ResponseSecretHex          string   `json:"response_secret_hex"`
	ResponseKeyHex             string   `json:"response_key_hex"`
	ResponseBaseNonceHex       string   `json:"response_base_nonce_hex"`
	LoginOk                    string   `json:"login_ok"`
	CheckCodeLabel             string   `json:"check_code_label"`
	CheckCodeBytesHex          string   `json:"check_code_bytes_hex"`
	CheckCode                  string   `json:"check_code"`
	SToGPlaintext              string   `json:"s_to_g_plaintext"`
	SToG                       string   `json:"s_to_g"`
	GToSPlaintext              string   `json:"g_to_s_plaintext"`
	GToS                       string   `json:"g_to_s"`
	MSCTextResponseSecretHex   string   `json:"msc_text_response_secret_hex"`
	MSCTextCheckCodeBytesHex   string   `json:"msc_text_check_code_bytes_hex"`
	MSCTextCheckCode           string   `json:"msc_text_check_code"`
}

func loadHPKEVector(t testing.TB) hpkeVector {
	t.Helper()
	raw, err := os.ReadFile("testdata/hpke-vector-6.2.json")
	if err != nil {
		t.Fatal(err)
	}
	var v hpkeVector
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustB64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixedKeySender is RFC 9180 SetupBaseS for DHKEM(X25519, HKDF-SHA256),
// HKDF-SHA256, ChaCha20-Poly1305 with a caller-chosen ephemeral key, written
// from the RFC for this test only: crypto/hpke draws the ephemeral key itself
// and offers no way to pin it. TestFixedKeySenderMatchesCryptoHPKE proves it
// agrees with crypto/hpke's recipient, so the vector test still exercises
// crypto/hpke on G's side and nothing on S's side but the key choice differs.
type fixedKeySender struct {
	aead     *responseContext // an RFC 9180 AEAD context: key, base nonce, seq
	exporter []byte
}

func (f *fixedKeySender) Seal(aad, pt []byte) ([]byte, error) { return f.aead.Seal(aad, pt) }

func (f *fixedKeySender) Export(label string, n int) ([]byte, error) {
	return rfc9180LabeledExpand(rfc9180HPKESuiteID(), f.exporter, "sec", []byte(label), n), nil
}

func rfc9180KEMSuiteID() []byte { return []byte("KEM\x00\x20") }

func rfc9180HPKESuiteID() []byte { return []byte("HPKE\x00\x20\x00\x01\x00\x03") }

func rfc9180LabeledExtract(suite, salt []byte, label string, ikm []byte) []byte {
	in := append(append(append([]byte("HPKE-v1"), suite...), label...), ikm...)
	prk, err := hkdf.Extract(sha256.New, in, salt)
	if err != nil {
		panic(err)
	}
	return prk
}

func rfc9180LabeledExpand(suite, prk []byte, label string, info []byte, n int) []byte {
	in := binary.BigEndian.AppendUint16(nil, uint16(n))
	in = append(append(append(append(in, "HPKE-v1"...), suite...), label...), info...)
	out, err := hkdf.Expand(sha256.New, prk, string(in), n)
	if err != nil {
		panic(err)
	}
	return out
}

// newFixedKeySender returns a setupSender hook that uses ephemeral as Ss.
func newFixedKeySender(t testing.TB, ephemeral []byte) func(peer *ecdh.PublicKey) ([]byte, hpkeSenderContext, error) {
	return func(peer *ecdh.PublicKey) ([]byte, hpkeSenderContext, error) {
		ctx, enc := fixedKeySchedule(t, ephemeral, peer)
		return enc, ctx, nil
	}
}

func fixedKeySchedule(t testing.TB, ephemeral []byte, peer *ecdh.PublicKey) (*fixedKeySender, []byte) {
	t.Helper()
	sk, err := ecdh.X25519().NewPrivateKey(ephemeral)
	if err != nil {
		t.Fatal(err)
	}
	dh, err := sk.ECDH(peer)
	if err != nil {
		t.Fatal(err)
	}
	enc := sk.PublicKey().Bytes()
	kemContext := append(append([]byte(nil), enc...), peer.Bytes()...)
	eaePRK := rfc9180LabeledExtract(rfc9180KEMSuiteID(), nil, "eae_prk", dh)
	shared := rfc9180LabeledExpand(rfc9180KEMSuiteID(), eaePRK, "shared_secret", kemContext, 32)

	suite := rfc9180HPKESuiteID()
	pskIDHash := rfc9180LabeledExtract(suite, nil, "psk_id_hash", nil)
	infoHash := rfc9180LabeledExtract(suite, nil, "info_hash", []byte(hpkeInfo))
	ksc := append(append([]byte{0x00}, pskIDHash...), infoHash...)
	secret := rfc9180LabeledExtract(suite, shared, "secret", nil)
	key := rfc9180LabeledExpand(suite, secret, "key", ksc, chacha20poly1305.KeySize)
	baseNonce := rfc9180LabeledExpand(suite, secret, "base_nonce", ksc, chacha20poly1305.NonceSize)
	exporter := rfc9180LabeledExpand(suite, secret, "exp", ksc, 32)

	rc := &responseContext{}
	copy(rc.key[:], key)
	copy(rc.baseNonce[:], baseNonce)
	if rc.aead, err = chacha20poly1305.New(key); err != nil {
		t.Fatal(err)
	}
	return &fixedKeySender{aead: rc, exporter: exporter}, enc
}

// TestFixedKeySenderMatchesCryptoHPKE checks the test-only sender against
// crypto/hpke: the vector's key schedule values, and crypto/hpke's recipient
// opening three sealed messages and exporting the same secrets.
func TestFixedKeySenderMatchesCryptoHPKE(t *testing.T) {
	v := loadHPKEVector(t)
	gs, err := ecdh.X25519().NewPrivateKey(mustHex(t, v.GeneratorPrivateHex))
	if err != nil {
		t.Fatal(err)
	}
	sender, enc := fixedKeySchedule(t, mustHex(t, v.ScannerEphemeralPrivateHex), gs.PublicKey())
	if got := base64.RawStdEncoding.EncodeToString(enc); got != v.ScannerPublicB64 {
		t.Fatalf("Sp = %s, want %s", got, v.ScannerPublicB64)
	}
	if got := hex.EncodeToString(sender.aead.key[:]); got != v.HPKEKeyHex {
		t.Errorf("key = %s, want %s", got, v.HPKEKeyHex)
	}
	if got := hex.EncodeToString(sender.aead.baseNonce[:]); got != v.HPKEBaseNonceHex {
		t.Errorf("base nonce = %s, want %s", got, v.HPKEBaseNonceHex)
	}
	if got := hex.EncodeToString(sender.exporter); got != v.HPKEExporterSecretHex {
		t.Errorf("exporter secret = %s, want %s", got, v.HPKEExporterSecretHex)
	}

	sk, err := hpke.NewDHKEMPrivateKey(gs)
	if err != nil {
		t.Fatal(err)
	}
	recipient, err := hpke.NewRecipient(enc, sk, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), []byte(hpkeInfo))
	if err != nil {
		t.Fatal(err)
	}
	for i, msg := range []string{"zero", "one", "two"} {
		aad := []byte{byte(i)}
		ct, _ := sender.Seal(aad, []byte(msg))
		pt, err := recipient.Open(aad, ct)
		if err != nil || string(pt) != msg {
			t.Fatalf("message %d: crypto/hpke opened %q, %v", i, pt, err)
		}
	}
	for _, label := range []string{"MATRIX_QR_CODE_LOGIN_RESPONSE", v.CheckCodeLabel} {
		a, _ := sender.Export(label, 32)
		b, err := recipient.Export(label, 32)
		if err != nil || !bytes.Equal(a, b) {
			t.Fatalf("Export(%q) differs: %x vs %x (%v)", label, a, b, err)
		}
	}
}

// TestHPKEVectorKeySchedule pins the G-side derivations with crypto/hpke:
// response secret, key and nonce, the AAD layout and both check codes,
// including the MSC-text negative controls (docs/protocol-divergences.md
// "Response secret label" and "Check code"): a label mix-up gives "60" and
// another secret.
func TestHPKEVectorKeySchedule(t *testing.T) {
	v := loadHPKEVector(t)
	gs, _ := ecdh.X25519().NewPrivateKey(mustHex(t, v.GeneratorPrivateHex))
	gp, sp, rn := gs.PublicKey().Bytes(), mustB64(t, v.ScannerPublicB64), mustHex(t, v.ResponseNonceHex)
	if got := encodeBase64(gp); got != v.GeneratorPublicB64 {
		t.Fatalf("Gp = %s, want %s", got, v.GeneratorPublicB64)
	}
	sk, _ := hpke.NewDHKEMPrivateKey(gs)
	recipient, err := hpke.NewRecipient(sp, sk, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), []byte(hpkeInfo))
	if err != nil {
		t.Fatal(err)
	}

	ref, _ := hpkeLabelsFor(vocab.VariantReference)
	msc, _ := hpkeLabelsFor(vocab.VariantMSCText)
	if got := ref.checkCode(gp, sp); got != v.CheckCodeLabel {
		t.Errorf("check-code label = %q, want %q", got, v.CheckCodeLabel)
	}
	for _, c := range []struct {
		labels    hpkeLabels
		secretHex string
		codeHex   string
		code      string
	}{
		{ref, v.ResponseSecretHex, v.CheckCodeBytesHex, v.CheckCode},
		{msc, v.MSCTextResponseSecretHex, v.MSCTextCheckCodeBytesHex, v.MSCTextCheckCode},
	} {
		secret, err := recipient.Export(c.labels.response(), hpkeResponseSecretLen)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(secret); got != c.secretHex {
			t.Errorf("%s: response secret = %s, want %s", c.labels.variant, got, c.secretHex)
		}
		raw, _ := recipient.Export(c.labels.checkCode(gp, sp), 2)
		if got := hex.EncodeToString(raw); got != c.codeHex {
			t.Errorf("%s: check-code bytes = %s, want %s", c.labels.variant, got, c.codeHex)
		}
		code, _ := hpkeCheckCode(recipient, c.labels, gp, sp)
		if code.String() != c.code {
			t.Errorf("%s: check code = %s, want %s", c.labels.variant, code, c.code)
		}
	}

	rc, err := newResponseContext(mustHex(t, v.ResponseSecretHex), sp, rn)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(rc.key[:]); got != v.ResponseKeyHex {
		t.Errorf("response key = %s, want %s", got, v.ResponseKeyHex)
	}
	if got := hex.EncodeToString(rc.baseNonce[:]); got != v.ResponseBaseNonceHex {
		t.Errorf("response base nonce = %s, want %s", got, v.ResponseBaseNonceHex)
	}

	b, err := newAADBinding(Binding{BaseURL: v.QRBaseURL, RendezvousID: v.RendezvousID})
	if err != nil {
		t.Fatal(err)
	}
	if b.baseURL != v.AADBaseURL {
		t.Errorf("AAD base URL = %q, want %q", b.baseURL, v.AADBaseURL)
	}
	aad, _ := b.build(v.Tokens[0])
	want := mustHex(t, v.AADT1PrefixHex)
	want = append(want, v.RendezvousID...)
	want = append(want, byte(len(v.Tokens[0])))
	want = append(want, v.Tokens[0]...)
	if !bytes.Equal(aad, want) {
		t.Errorf("AAD(T1) = %x\nwant      %x", aad, want)
	}
}

// TestHPKEVectorEndToEnd replays the whole HPKE vector transcript through
// acceptHPKE/scanHPKE and the Channel, with the vector's keys, nonce and
// tokens: every wire message must match byte for byte.
func TestHPKEVectorEndToEnd(t *testing.T) {
	v := loadHPKEVector(t)
	gs, _ := ecdh.X25519().NewPrivateKey(mustHex(t, v.GeneratorPrivateHex))
	bind := Binding{BaseURL: v.QRBaseURL, RendezvousID: v.RendezvousID}
	srv := newMemServer(v.Tokens...)
	p := runHandshake(t, srv,
		func(ctx context.Context, sess Transport) (*Channel, error) {
			hooks := hpkeHooks{random: bytes.NewReader(mustHex(t, v.ResponseNonceHex))}
			return acceptHPKEWith(ctx, hooks, gs, vocab.VariantReference, sess, bind)
		},
		func(ctx context.Context, sess Transport) (*Channel, error) {
			hooks := hpkeHooks{setupSender: newFixedKeySender(t, mustHex(t, v.ScannerEphemeralPrivateHex))}
			return scanHPKEWith(ctx, hooks, gs.PublicKey(), vocab.VariantReference, sess, bind)
		})
	if p.gErr != nil || p.sErr != nil {
		t.Fatalf("handshake: G: %v; S: %v", p.gErr, p.sErr)
	}
	w := srv.writes()
	if w[0] != v.LoginInitiate {
		t.Errorf("LoginInitiate = %s\nwant             %s", w[0], v.LoginInitiate)
	}
	if w[1] != v.LoginOk {
		t.Errorf("LoginOk = %s\nwant       %s", w[1], v.LoginOk)
	}
	if p.s.CheckCode().String() != v.CheckCode || p.g.CheckCode().String() != v.CheckCode {
		t.Errorf("check codes S %s G %s, want %s", p.s.CheckCode(), p.g.CheckCode(), v.CheckCode)
	}

	ctx := testCtx(t)
	if err := p.s.Send(ctx, []byte(v.SToGPlaintext)); err != nil {
		t.Fatal(err)
	}
	got, err := p.g.Receive(ctx, vocab.PaceReply)
	if err != nil || string(got) != v.SToGPlaintext {
		t.Fatalf("G received %q, %v", got, err)
	}
	if err := p.g.Confirm(v.CheckCode); err != nil {
		t.Fatal(err)
	}
	if err := p.g.Send(ctx, []byte(v.GToSPlaintext)); err != nil {
		t.Fatal(err)
	}
	got, err = p.s.Receive(ctx, vocab.PaceReply)
	if err != nil || string(got) != v.GToSPlaintext {
		t.Fatalf("S received %q, %v", got, err)
	}
	w = srv.writes()
	if w[2] != v.SToG {
		t.Errorf("S→G = %s\nwant   %s", w[2], v.SToG)
	}
	if w[3] != v.GToS {
		t.Errorf("G→S = %s\nwant   %s", w[3], v.GToS)
	}
}

// TestHPKEVectorMSCTextGivesOtherCode: the same transcript with the MSC
// text's labels on both sides still handshakes (both agree) but shows "60",
// and its LoginOk differs from the reference one.
func TestHPKEVectorMSCTextGivesOtherCode(t *testing.T) {
	v := loadHPKEVector(t)
	gs, _ := ecdh.X25519().NewPrivateKey(mustHex(t, v.GeneratorPrivateHex))
	bind := Binding{BaseURL: v.QRBaseURL, RendezvousID: v.RendezvousID}
	srv := newMemServer(v.Tokens...)
	p := runHandshake(t, srv,
		func(ctx context.Context, sess Transport) (*Channel, error) {
			hooks := hpkeHooks{random: bytes.NewReader(mustHex(t, v.ResponseNonceHex))}
			return acceptHPKEWith(ctx, hooks, gs, vocab.VariantMSCText, sess, bind)
		},
		func(ctx context.Context, sess Transport) (*Channel, error) {
			hooks := hpkeHooks{setupSender: newFixedKeySender(t, mustHex(t, v.ScannerEphemeralPrivateHex))}
			return scanHPKEWith(ctx, hooks, gs.PublicKey(), vocab.VariantMSCText, sess, bind)
		})
	if p.gErr != nil || p.sErr != nil {
		t.Fatalf("handshake: G: %v; S: %v", p.gErr, p.sErr)
	}
	if p.s.CheckCode().String() != v.MSCTextCheckCode {
		t.Errorf("MSC-text check code = %s, want %s", p.s.CheckCode(), v.MSCTextCheckCode)
	}
	w := srv.writes()
	if w[0] != v.LoginInitiate {
		t.Errorf("LoginInitiate must not depend on the variant")
	}
	if w[1] == v.LoginOk {
		t.Errorf("MSC-text LoginOk equals the reference one")
	}
}
