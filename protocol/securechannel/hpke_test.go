package securechannel

import (
	"context"
	"crypto/ecdh"
	"crypto/hpke"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// exchange sends n messages each way in ping-pong, S first, and checks them.
func exchange(t *testing.T, g, s *Channel, n int) {
	t.Helper()
	ctx := testCtx(t)
	for i := range n {
		msg := fmt.Sprintf(`{"type":"s","i":%d}`, i)
		if err := s.Send(ctx, []byte(msg)); err != nil {
			t.Fatalf("S send %d: %v", i, err)
		}
		got, err := g.Receive(ctx, vocab.PaceReply)
		if err != nil || string(got) != msg {
			t.Fatalf("G receive %d: %q, %v", i, got, err)
		}
		msg = fmt.Sprintf(`{"type":"g","i":%d}`, i)
		if err := g.Send(ctx, []byte(msg)); err != nil {
			t.Fatalf("G send %d: %v", i, err)
		}
		got, err = s.Receive(ctx, vocab.PaceReply)
		if err != nil || string(got) != msg {
			t.Fatalf("S receive %d: %q, %v", i, got, err)
		}
	}
}

func TestHPKEBothVariantsInterop(t *testing.T) {
	for _, v := range []vocab.Variant{vocab.VariantReference, vocab.VariantMSCText, ""} {
		t.Run(string(v), func(t *testing.T) {
			o := defaultPairOptions(vocab.MSC4388)
			o.gVariant, o.sVariant = v, v
			p := mustPair(t, o)
			code := p.s.CheckCode().String()
			if code != p.g.CheckCode().String() {
				t.Fatalf("codes differ: S %s, G %s", code, p.g.CheckCode())
			}
			if n := p.s.CheckCode().Value(); n < 10 || n > 99 {
				t.Fatalf("check code %d outside 10..99", n)
			}
			if err := p.g.Confirm(code); err != nil {
				t.Fatal(err)
			}
			exchange(t, p.g, p.s, 5)
		})
	}
}

// TestHPKEVariantMismatchFailsCleanly: a reference G and an MSC-text S
// derive different response keys (docs/protocol-divergences.md "Response
// secret label"),
// so S cannot open LoginOk and says so; G cannot tell and would wait.
func TestHPKEVariantMismatchFailsCleanly(t *testing.T) {
	for _, c := range []struct{ g, s vocab.Variant }{{vocab.VariantReference, vocab.VariantMSCText}, {vocab.VariantMSCText, vocab.VariantReference}} {
		o := defaultPairOptions(vocab.MSC4388)
		o.gVariant, o.sVariant = c.g, c.s
		p := newPair(t, o, nil)
		if p.gErr != nil {
			t.Fatalf("G %s: %v", c.g, p.gErr)
		}
		if !errors.Is(p.sErr, ErrHandshake) || !errors.Is(p.sErr, ErrDecrypt) {
			t.Fatalf("S %s with G %s: err = %v, want ErrHandshake+ErrDecrypt", c.s, c.g, p.sErr)
		}
		if p.s != nil {
			t.Fatal("S returned a channel on failure")
		}
	}
}

func TestHPKEUnknownVariant(t *testing.T) {
	o := defaultPairOptions(vocab.MSC4388)
	o.gVariant, o.sVariant = "bogus", "bogus"
	p := newPair(t, o, nil)
	if p.gErr == nil || p.sErr == nil {
		t.Fatalf("unknown variant accepted: G %v, S %v", p.gErr, p.sErr)
	}
}

func TestHPKEConfirm(t *testing.T) {
	p := mustPair(t, defaultPairOptions(vocab.MSC4388))
	ctx := testCtx(t)
	if err := p.g.Send(ctx, []byte("early")); !errors.Is(err, ErrNotConfirmed) {
		t.Fatalf("G send before confirm: %v", err)
	}
	code := p.s.CheckCode().Value()
	wrong := code%89 + 10 // another code in 10..99
	if wrong == code {
		wrong++
	}
	if err := p.g.Confirm("x1"); !errors.Is(err, ErrCheckCodeFormat) {
		t.Fatalf("Confirm(x1) = %v", err)
	}
	if err := p.g.Confirm(fmt.Sprint(wrong)); !errors.Is(err, ErrCheckCodeMismatch) {
		t.Fatalf("Confirm(wrong) = %v", err)
	}
	if err := p.g.Send(ctx, []byte("x")); !errors.Is(err, ErrChannelClosed) {
		t.Fatalf("send after mismatch: %v", err)
	}
	if _, err := p.g.Receive(ctx, vocab.PaceReply); !errors.Is(err, ErrChannelClosed) {
		t.Fatalf("receive after mismatch: %v", err)
	}
}

// flipBit decodes a base64 wire message, flips one bit at byte offset i
// (negative counts from the end) and re-encodes it.
func flipBit(t testing.TB, wire string, i int) string {
	t.Helper()
	raw, err := decodeBase64(wire)
	if err != nil {
		t.Fatalf("flipBit on non-base64 %q: %v", wire, err)
	}
	if i < 0 {
		i += len(raw)
	}
	raw[i] ^= 0x01
	return encodeBase64(raw)
}

// tamperNth rewrites the n-th write (0-based) on the server.
func tamperNth(n int, f func(string) string) func(*memSession, string, []string) string {
	return func(_ *memSession, payload string, history []string) string {
		if len(history) == n {
			return f(payload)
		}
		return payload
	}
}

func TestHPKETamperedHandshake(t *testing.T) {
	cases := []struct {
		name   string
		write  int // 0 = LoginInitiate, 1 = LoginOk
		offset int
		gFails bool
	}{
		{"initiate key", 0, 0, true},
		{"initiate ciphertext", 0, hpkeEncSize, true},
		{"initiate tag", 0, -1, true},
		{"ok nonce", 1, 0, false},
		{"ok ciphertext", 1, hpkeResponseNonceSize, false},
		{"ok tag", 1, -1, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newMemServer()
			srv.tamper = tamperNth(c.write, func(p string) string { return flipBit(t, p, c.offset) })
			p := newPair(t, defaultPairOptions(vocab.MSC4388), srv)
			failed, other := p.sErr, p.gErr
			if c.gFails {
				failed, other = p.gErr, nil
			}
			if !errors.Is(failed, ErrHandshake) {
				t.Fatalf("err = %v, want ErrHandshake", failed)
			}
			if other != nil {
				t.Fatalf("G failed too: %v", other)
			}
		})
	}
}

func TestHPKEMalformedHandshake(t *testing.T) {
	valid := strings.Repeat("A", 103) // 77 zero bytes
	cases := map[string]string{
		"empty":           "",
		"bad base64":      "!!!not base64!!!",
		"url-safe base64": strings.Repeat("_", 104),
		"line break":      valid[:50] + "\n" + valid[50:],
		"truncated":       valid[:60],
		"key only":        encodeBase64(make([]byte, 32)),
		"bad padding":     valid + "===",
		"low-order key":   encodeBase64(make([]byte, 77)),
		"trailing bits":   valid[:102] + "B",
	}
	for name, wire := range cases {
		for _, side := range []string{"G", "S"} {
			t.Run(name+"/"+side, func(t *testing.T) {
				srv := newMemServer()
				n := 0
				if side == "S" {
					n = 1
				}
				srv.tamper = tamperNth(n, func(string) string { return wire })
				p := newPair(t, defaultPairOptions(vocab.MSC4388), srv)
				err := p.gErr
				if side == "S" {
					err = p.sErr
				}
				if !errors.Is(err, ErrHandshake) {
					t.Fatalf("err = %v, want ErrHandshake", err)
				}
			})
		}
	}
}

// TestHPKEWrongPlaintext: correctly sealed handshake messages whose content
// is not the fixed string are refused as ErrHandshake, not ErrDecrypt.
func TestHPKEWrongPlaintext(t *testing.T) {
	aadFor := func(token string) []byte {
		b, err := newAADBinding(testBinding)
		if err != nil {
			t.Fatal(err)
		}
		aad, _ := b.build(token)
		return aad
	}
	t.Run("initiate", func(t *testing.T) {
		gs, _ := ecdh.X25519().GenerateKey(rand.Reader)
		p := runHandshake(t, newMemServer(),
			func(ctx context.Context, sess Transport) (*Channel, error) {
				return acceptHPKE(ctx, gs, vocab.VariantReference, sess, testBinding)
			},
			func(ctx context.Context, sess Transport) (*Channel, error) {
				sp, sender, err := setupBaseSender(gs.PublicKey())
				if err != nil {
					return nil, err
				}
				ct, _ := sender.Seal(aadFor(sess.Token()), []byte("MATRIX_QR_CODE_LOGIN_INITIATX"))
				if err := sess.Send(ctx, encodeHPKEHandshake(sp, ct)); err != nil {
					return nil, err
				}
				_, err = sess.Receive(ctx, vocab.PaceReply)
				return nil, err
			})
		if !errors.Is(p.gErr, ErrHandshake) || errors.Is(p.gErr, ErrDecrypt) {
			t.Fatalf("G err = %v, want ErrHandshake only", p.gErr)
		}
	})
	t.Run("ok", func(t *testing.T) {
		gs, _ := ecdh.X25519().GenerateKey(rand.Reader)
		p := runHandshake(t, newMemServer(),
			func(ctx context.Context, sess Transport) (*Channel, error) {
				openAAD := aadFor(sess.Token())
				wire, err := sess.Receive(ctx, vocab.PaceReply)
				if err != nil {
					return nil, err
				}
				m, err := decodeLoginInitiate(wire)
				if err != nil {
					return nil, err
				}
				sk, _ := hpke.NewDHKEMPrivateKey(gs)
				r, err := hpke.NewRecipient(m.prefix, sk, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), []byte(hpkeInfo))
				if err != nil {
					return nil, err
				}
				if _, err := r.Open(openAAD, m.ciphertext); err != nil {
					return nil, err
				}
				rn := make([]byte, 32)
				labels, _ := hpkeLabelsFor(vocab.VariantReference)
				resp, err := newResponseFromPrimary(r, labels, m.prefix, rn)
				if err != nil {
					return nil, err
				}
				ct, _ := resp.Seal(aadFor(sess.Token()), []byte("MATRIX_QR_CODE_LOGIN_NO"))
				return nil, sess.Send(ctx, encodeHPKEHandshake(rn, ct))
			},
			func(ctx context.Context, sess Transport) (*Channel, error) {
				return scanHPKE(ctx, gs.PublicKey(), vocab.VariantReference, sess, testBinding)
			})
		if !errors.Is(p.sErr, ErrHandshake) || errors.Is(p.sErr, ErrDecrypt) {
			t.Fatalf("S err = %v, want ErrHandshake only", p.sErr)
		}
	})
}

// TestHPKEWrongAAD: S and G disagreeing on any AAD field fails G's open of
// LoginInitiate; URLs that normalise alike agree.
func TestHPKEWrongAAD(t *testing.T) {
	other := func(f func(*Binding)) Binding { b := testBinding; f(&b); return b }
	cases := []struct {
		name  string
		sBind Binding
		ok    bool
	}{
		{"other host", other(func(b *Binding) { b.BaseURL = "https://matrix.org" }), false},
		{"other port", other(func(b *Binding) { b.BaseURL = "https://matrix-client.matrix.org:8448" }), false},
		{"other path", other(func(b *Binding) { b.BaseURL = "https://matrix-client.matrix.org/x" }), false},
		{"other ID", other(func(b *Binding) { b.RendezvousID = "01HX9K00Q1H6KPD47EG4G1T3XH" }), false},
		{"trailing slash", other(func(b *Binding) { b.BaseURL += "/" }), true},
		{"upper case, default port", other(func(b *Binding) { b.BaseURL = "HTTPS://Matrix-Client.Matrix.ORG:443" }), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := defaultPairOptions(vocab.MSC4388)
			o.sBind = c.sBind
			p := newPair(t, o, nil)
			if c.ok {
				if p.gErr != nil || p.sErr != nil {
					t.Fatalf("G %v, S %v", p.gErr, p.sErr)
				}
				return
			}
			if !errors.Is(p.gErr, ErrDecrypt) || !errors.Is(p.gErr, ErrHandshake) {
				t.Fatalf("G err = %v, want ErrHandshake+ErrDecrypt", p.gErr)
			}
		})
	}
}

// TestHPKEWrongToken: a device that binds another sequence token than the
// one current when the peer wrote cannot open (MSC4388 "Secure operations").
func TestHPKEWrongToken(t *testing.T) {
	gs, _ := ecdh.X25519().GenerateKey(rand.Reader)
	accept := func(ctx context.Context, sess Transport) (*Channel, error) {
		return acceptHPKE(ctx, gs, vocab.VariantReference, sess, testBinding)
	}
	scan := func(ctx context.Context, sess Transport) (*Channel, error) {
		return scanHPKE(ctx, gs.PublicKey(), vocab.VariantReference, sess, testBinding)
	}
	lie := func(sess Transport) Transport {
		return tokenOverride{Transport: sess, token: func(real string) string { return real + "x" }}
	}
	p := runHandshake(t, newMemServer(), func(ctx context.Context, s Transport) (*Channel, error) { return accept(ctx, lie(s)) }, scan)
	if !errors.Is(p.gErr, ErrDecrypt) {
		t.Fatalf("G with wrong token: %v", p.gErr)
	}
	p = runHandshake(t, newMemServer(), accept, func(ctx context.Context, s Transport) (*Channel, error) { return scan(ctx, lie(s)) })
	if !errors.Is(p.gErr, ErrDecrypt) {
		t.Fatalf("S with wrong token, G: %v", p.gErr)
	}

	// After the handshake: G seals with a token S does not expect.
	var liar bool
	p = runHandshake(t, newMemServer(), func(ctx context.Context, s Transport) (*Channel, error) {
		return accept(ctx, tokenOverride{Transport: s, token: func(real string) string {
			if liar {
				return "not-the-token"
			}
			return real
		}})
	}, scan)
	if p.gErr != nil || p.sErr != nil {
		t.Fatalf("G %v, S %v", p.gErr, p.sErr)
	}
	ctx := testCtx(t)
	if err := p.s.Send(ctx, []byte("m1")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.g.Receive(ctx, vocab.PaceReply); err != nil {
		t.Fatal(err)
	}
	_ = p.g.Confirm(p.s.CheckCode().String())
	liar = true
	if err := p.g.Send(ctx, []byte("m2")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.s.Receive(ctx, vocab.PaceReply); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("S opened a message sealed with the wrong token: %v", err)
	}
}

func TestHPKEAADLimits(t *testing.T) {
	long := strings.Repeat("a", 256)
	for name, b := range map[string]Binding{
		"rendezvous ID": {BaseURL: testBinding.BaseURL, RendezvousID: long},
		"base URL":      {BaseURL: "https://example.org/" + strings.Repeat("p", 65536), RendezvousID: "id"},
	} {
		_, err := newAADBinding(b)
		var tooLong *AADFieldTooLongError
		if !errors.As(err, &tooLong) || tooLong.Field != name || !errors.Is(err, ErrAAD) {
			t.Errorf("%s: err = %v", name, err)
		}
		// Both halves refuse before touching the session.
		gs, _ := ecdh.X25519().GenerateKey(rand.Reader)
		srv := newMemServer()
		if _, err := acceptHPKE(testCtx(t), gs, vocab.VariantReference, srv.create(""), b); !errors.As(err, &tooLong) {
			t.Errorf("%s: accept: %v", name, err)
		}
		if _, err := scanHPKE(testCtx(t), gs.PublicKey(), vocab.VariantReference, srv.join(), b); !errors.As(err, &tooLong) {
			t.Errorf("%s: scan: %v", name, err)
		}
		if len(srv.writes()) != 0 {
			t.Errorf("%s: something was written", name)
		}
	}
	b, _ := newAADBinding(testBinding)
	if _, err := b.build(long); err == nil {
		t.Error("256-byte token accepted")
	}
	if _, err := b.build(long[:255]); err != nil {
		t.Errorf("255-byte token refused: %v", err)
	}

	// A server handing out a 256-byte token ends the channel with a typed error.
	p := mustPair(t, defaultPairOptions(vocab.MSC4388))
	long256 := tokenOverride{Transport: p.sSess, token: func(string) string { return long }}
	p.s.sess = long256
	var tooLong *AADFieldTooLongError
	if err := p.s.Send(testCtx(t), []byte("x")); !errors.As(err, &tooLong) || tooLong.Field != "sequence token" {
		t.Fatalf("send with a 256-byte token: %v", err)
	}
	if strings.Contains(tooLong.Error(), long) {
		t.Fatal("the error message leaks the token")
	}
}

// TestHPKEReplayAndReorder works on the message cipher with a fixed AAD, so
// only the sequence numbers can reject: a replayed or reordered message
// fails, a failed open does not consume a number.
func TestHPKEReplayAndReorder(t *testing.T) {
	p := mustPair(t, defaultPairOptions(vocab.MSC4388))
	aad := []byte("fixed")
	for _, dir := range []struct {
		name     string
		from, to *Channel
	}{{"S to G", p.s, p.g}, {"G to S", p.g, p.s}} {
		t.Run(dir.name, func(t *testing.T) {
			m1, err := dir.from.cipher.seal(aad, []byte("one"))
			if err != nil {
				t.Fatal(err)
			}
			m2, _ := dir.from.cipher.seal(aad, []byte("two"))
			if _, err := dir.to.cipher.open(aad, m2); err == nil {
				t.Fatal("reordered message opened")
			}
			if pt, err := dir.to.cipher.open(aad, m1); err != nil || string(pt) != "one" {
				t.Fatalf("m1 after a failed open: %q, %v", pt, err)
			}
			if _, err := dir.to.cipher.open(aad, m1); err == nil {
				t.Fatal("replayed message opened")
			}
			if pt, err := dir.to.cipher.open(aad, m2); err != nil || string(pt) != "two" {
				t.Fatalf("m2: %q, %v", pt, err)
			}
			if _, err := dir.to.cipher.open(aad, "A"+m2[1:]); err == nil {
				t.Fatal("tampered message opened")
			}
		})
	}
}

// TestHPKEReplayThroughServer: the attacker stores an earlier message of S
// again instead of S's new one; G must refuse it and close.
func TestHPKEReplayThroughServer(t *testing.T) {
	srv := newMemServer()
	srv.tamper = func(_ *memSession, payload string, history []string) string {
		if len(history) == 4 { // S's second message: replay its first (write 2)
			return history[2]
		}
		return payload
	}
	p := newPair(t, defaultPairOptions(vocab.MSC4388), srv)
	if p.gErr != nil || p.sErr != nil {
		t.Fatal(p.gErr, p.sErr)
	}
	ctx := testCtx(t)
	_ = p.g.Confirm(p.s.CheckCode().String())
	_ = p.s.Send(ctx, []byte("first"))
	if _, err := p.g.Receive(ctx, vocab.PaceReply); err != nil {
		t.Fatal(err)
	}
	_ = p.g.Send(ctx, []byte("reply"))
	if _, err := p.s.Receive(ctx, vocab.PaceReply); err != nil {
		t.Fatal(err)
	}
	_ = p.s.Send(ctx, []byte("second"))
	if _, err := p.g.Receive(ctx, vocab.PaceReply); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("replay: %v", err)
	}
	if err := p.g.Send(ctx, []byte("x")); !errors.Is(err, ErrChannelClosed) {
		t.Fatalf("after a failed open the channel must be closed: %v", err)
	}
}

func TestHPKELaterMessageDecoding(t *testing.T) {
	p := mustPair(t, defaultPairOptions(vocab.MSC4388))
	good, _ := p.s.cipher.seal(nil, []byte("hello"))
	for name, wire := range map[string]string{
		"empty":         "",
		"bad base64":    "%%%%",
		"short":         encodeBase64(make([]byte, 15)),
		"line break":    good[:4] + "\r\n" + good[4:],
		"tag only zero": encodeBase64(make([]byte, 16)),
	} {
		if _, err := p.g.cipher.open(nil, wire); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
	// The padded form of a valid message is accepted (vodozemac decodes
	// padded and unpadded alike).
	padded := good
	for len(padded)%4 != 0 {
		padded += "="
	}
	if pt, err := p.g.cipher.open(nil, padded); err != nil || string(pt) != "hello" {
		t.Fatalf("padded: %q, %v", pt, err)
	}
	if strings.HasSuffix(good, "=") {
		t.Fatal("sealed output is padded")
	}
}

func TestHPKECloseZeroes(t *testing.T) {
	p := mustPair(t, defaultPairOptions(vocab.MSC4388))
	c := p.g.cipher.(*hpkeCipher)
	resp := c.response
	p.g.Close()
	p.g.Close() // idempotent
	if resp.key != [32]byte{} || resp.baseNonce != [12]byte{} || resp.aead != nil {
		t.Fatal("response context not zeroed")
	}
	if c.sealer != nil || c.opener != nil {
		t.Fatal("contexts still referenced")
	}
	if _, err := c.seal(nil, []byte("x")); !errors.Is(err, ErrChannelClosed) {
		t.Fatalf("seal after zero: %v", err)
	}
	if _, err := c.open(nil, encodeBase64(make([]byte, 20))); !errors.Is(err, ErrChannelClosed) {
		t.Fatalf("open after zero: %v", err)
	}
	for _, s := range []string{fmt.Sprintf("%v %+v %#v %s", c, c, c, c), fmt.Sprintf("%v %+v %#v", resp, resp, *resp)} {
		if strings.Count(s, "[redacted]") < 3 {
			t.Fatalf("key material printable: %s", s)
		}
	}
}

func TestHPKECheckDigits(t *testing.T) {
	// vodozemac's NoLeadingZero unit tests (docs/protocol-divergences.md
	// "Test vectors" and "Check code").
	for _, c := range []struct {
		b0, b1 byte
		want   string
	}{{0, 0, "10"}, {8, 9, "99"}, {255, 255, "45"}, {0x15, 0xb5, "41"}, {0x95, 0xe6, "60"}} {
		if got := hpkeCheckDigits(c.b0, c.b1).String(); got != c.want {
			t.Errorf("digits(%d,%d) = %s, want %s", c.b0, c.b1, got, c.want)
		}
	}
	for b0 := range 256 {
		for b1 := range 256 {
			if n := hpkeCheckDigits(byte(b0), byte(b1)).Value(); n < 10 || n > 99 {
				t.Fatalf("digits(%d,%d) = %d", b0, b1, n)
			}
		}
	}
}
