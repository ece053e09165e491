package securechannel

import (
	"context"
	"testing"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// BenchmarkECIESHandshake runs both roles of the 2024 handshake through the
// in-memory rendezvous server: G's fresh key pair, S's initiate, G's
// LoginOk, S's check.
func BenchmarkECIESHandshake(b *testing.B) {
	o := defaultPairOptions(vocab.MSC4108v2024)
	b.ReportAllocs()
	for b.Loop() {
		p := newPair(b, o, nil)
		if p.gErr != nil || p.sErr != nil {
			b.Fatalf("G: %v; S: %v", p.gErr, p.sErr)
		}
		p.g.Close()
		p.s.Close()
	}
}

// BenchmarkECIESGeneratorAccept is G's share alone: parse, X25519, HKDF,
// open the initiate, seal LoginOk (the vector's initiate, fixed key).
func BenchmarkECIESGeneratorAccept(b *testing.B) {
	ctx := context.Background()
	gs := mustX25519(b, vecGs)
	b.ReportAllocs()
	for b.Loop() {
		ch, err := acceptECIES(ctx, gs, &eciesScript{incoming: []string{vecInitiate}})
		if err != nil {
			b.Fatal(err)
		}
		ch.Close()
	}
}

// BenchmarkECIESScannerScan is S's share alone: key generation, X25519, HKDF,
// seal the initiate, open LoginOk (against a fixed G and S key, so the
// vector's LoginOk answers).
func BenchmarkECIESScannerScan(b *testing.B) {
	ctx := context.Background()
	gp, ss := mustX25519(b, vecGs).PublicKey(), mustX25519(b, vecSs)
	b.ReportAllocs()
	for b.Loop() {
		ch, err := scanECIESWithKey(ctx, gp, ss, &eciesScript{incoming: []string{vecOk}})
		if err != nil {
			b.Fatal(err)
		}
		ch.Close()
	}
}

// BenchmarkECIESMessage seals and opens one 1 KiB message (the size of a
// typical m.login.secrets payload) in each direction's cipher.
func BenchmarkECIESMessage(b *testing.B) {
	var keyS, keyG eciesKey
	keyS[0], keyG[0] = 1, 2
	sender, receiver := newECIESCipher(keyS, keyG), newECIESCipher(keyG, keyS)
	msg := make([]byte, 1024)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		wire, err := sender.seal(nil, msg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := receiver.open(nil, wire); err != nil {
			b.Fatal(err)
		}
	}
}
