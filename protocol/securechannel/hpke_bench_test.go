package securechannel

import (
	"testing"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// BenchmarkHPKEHandshake is a full MSC4388 handshake, both roles, over the
// in-memory rendezvous stand-in: key generation, HPKE setup on both sides,
// LoginInitiate, response context, LoginOk and the check code.
func BenchmarkHPKEHandshake(b *testing.B) {
	o := defaultPairOptions(vocab.MSC4388)
	b.ReportAllocs()
	for b.Loop() {
		p := mustPair(b, o)
		p.g.Close()
		p.s.Close()
	}
}

const benchMessageSize = 4096

func benchAAD(b *testing.B) []byte {
	bind, err := newAADBinding(testBinding)
	if err != nil {
		b.Fatal(err)
	}
	aad, err := bind.build("VmbxF13QDusTgOCt8aoa0d2PQcnBOXeIxEqhw5aQ03o=")
	if err != nil {
		b.Fatal(err)
	}
	return aad
}

// BenchmarkHPKESeal4KiB seals a 4 KiB message on each kind of context: S's
// primary (crypto/hpke) and G's response context (by hand), base64 included.
func BenchmarkHPKESeal4KiB(b *testing.B) {
	p := mustPair(b, defaultPairOptions(vocab.MSC4388))
	aad := benchAAD(b)
	msg := make([]byte, benchMessageSize)
	for _, side := range []struct {
		name string
		c    *Channel
	}{{"S-primary", p.s}, {"G-response", p.g}} {
		b.Run(side.name, func(b *testing.B) {
			b.SetBytes(benchMessageSize)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := side.c.cipher.seal(aad, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHPKEOpen4KiB opens 4 KiB messages on each kind of context; the
// messages are sealed in batches outside the timer, since every open moves
// the receiver's sequence number on.
func BenchmarkHPKEOpen4KiB(b *testing.B) {
	aad := benchAAD(b)
	msg := make([]byte, benchMessageSize)
	for _, dir := range []string{"G-primary", "S-response"} {
		b.Run(dir, func(b *testing.B) {
			p := mustPair(b, defaultPairOptions(vocab.MSC4388))
			from, to := p.s, p.g
			if dir == "S-response" {
				from, to = p.g, p.s
			}
			const batch = 256
			wires := make([]string, 0, batch)
			b.SetBytes(benchMessageSize)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if len(wires) == 0 {
					b.StopTimer()
					for range batch {
						w, err := from.cipher.seal(aad, msg)
						if err != nil {
							b.Fatal(err)
						}
						wires = append(wires, w)
					}
					b.StartTimer()
				}
				if _, err := to.cipher.open(aad, wires[0]); err != nil {
					b.Fatal(err)
				}
				wires = wires[1:]
			}
		})
	}
}
