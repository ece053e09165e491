package securechannel

import (
	"context"
	"crypto/ecdh"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// Seeds shared by the three decoders: the HPKE vector's messages, their
// padded forms, truncations and junk.
func addHPKEWireSeeds(f *testing.F) {
	v := loadHPKEVector(f)
	for _, s := range []string{v.LoginInitiate, v.LoginOk, v.SToG, v.GToS} {
		f.Add(s)
		f.Add(s + "=")
		f.Add(s[:len(s)/2])
		f.Add(strings.ReplaceAll(s, "+", "-"))
	}
	for _, s := range []string{"", "=", "==", "A", "AA", "AAA=", "\n", "QUJD\r\nQUJD", strings.Repeat("A", 64), strings.Repeat("/", 103)} {
		f.Add(s)
	}
}

// canonical is the unpadded form a successfully decoded message re-encodes to.
func canonical(wire string) string { return strings.TrimRight(wire, "=") }

func FuzzDecodeLoginInitiate(f *testing.F) {
	addHPKEWireSeeds(f)
	v := loadHPKEVector(f)
	gs, err := ecdh.X25519().NewPrivateKey(mustHex(f, v.GeneratorPrivateHex))
	if err != nil {
		f.Fatal(err)
	}
	bind := Binding{BaseURL: v.QRBaseURL, RendezvousID: v.RendezvousID}
	f.Fuzz(func(t *testing.T, wire string) {
		m, err := decodeLoginInitiate(wire)
		if err == nil {
			if len(m.prefix) != hpkeEncSize || len(m.ciphertext) < hpkeTagSize {
				t.Fatalf("bad split: %d + %d", len(m.prefix), len(m.ciphertext))
			}
			if got := encodeHPKEHandshake(m.prefix, m.ciphertext); got != canonical(wire) {
				t.Fatalf("round trip %q -> %q", wire, got)
			}
		}
		// The whole of G's handling of a hostile first message: it must
		// fail with ErrHandshake (or succeed on the genuine message only).
		srv := newMemServer(v.Tokens...)
		gSess := srv.create("")
		if err := srv.join().Send(context.Background(), wire); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		ch, err := acceptHPKEWith(ctx, hpkeHooks{random: zeroReader{}}, gs, vocab.VariantReference, gSess, bind)
		if err == nil {
			if canonical(wire) != v.LoginInitiate {
				t.Fatalf("G accepted a forged LoginInitiate %q", wire)
			}
			ch.Close()
		} else if !errors.Is(err, ErrHandshake) {
			t.Fatalf("untyped error: %v", err)
		}
	})
}

func FuzzDecodeLoginOk(f *testing.F) {
	addHPKEWireSeeds(f)
	v := loadHPKEVector(f)
	secret := mustHex(f, v.ResponseSecretHex)
	sp := mustB64(f, v.ScannerPublicB64)
	bind, err := newAADBinding(Binding{BaseURL: v.QRBaseURL, RendezvousID: v.RendezvousID})
	if err != nil {
		f.Fatal(err)
	}
	aad, _ := bind.build(v.Tokens[1])
	f.Fuzz(func(t *testing.T, wire string) {
		m, err := decodeLoginOk(wire)
		if err != nil {
			return
		}
		if len(m.prefix) != hpkeResponseNonceSize || len(m.ciphertext) < hpkeTagSize {
			t.Fatalf("bad split: %d + %d", len(m.prefix), len(m.ciphertext))
		}
		if got := encodeHPKEHandshake(m.prefix, m.ciphertext); got != canonical(wire) {
			t.Fatalf("round trip %q -> %q", wire, got)
		}
		// S's processing from here on: derive and open.
		rc, err := newResponseContext(secret, sp, m.prefix)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.zero()
		if pt, err := rc.Open(aad, m.ciphertext); err == nil && canonical(wire) != v.LoginOk {
			t.Fatalf("forged LoginOk opened to %q", pt)
		}
	})
}

func FuzzDecodeHPKEMessage(f *testing.F) {
	addHPKEWireSeeds(f)
	p := mustPair(f, defaultPairOptions(vocab.MSC4388))
	f.Fuzz(func(t *testing.T, wire string) {
		raw, err := decodeHPKEMessage(wire)
		if err == nil {
			if len(raw) < hpkeTagSize {
				t.Fatalf("accepted %d bytes", len(raw))
			}
			if got := encodeBase64(raw); got != canonical(wire) {
				t.Fatalf("round trip %q -> %q", wire, got)
			}
		}
		// Nothing but the peer's genuine next message may open.
		if pt, err := p.g.cipher.open(nil, wire); err == nil {
			t.Fatalf("random message opened to %q", pt)
		}
		if pt, err := p.s.cipher.open(nil, wire); err == nil {
			t.Fatalf("random message opened to %q", pt)
		}
	})
}

type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) { clear(b); return len(b), nil }
