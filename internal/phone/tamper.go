package phone

import (
	"context"
	"encoding/base64"
	"strings"
	"sync/atomic"

	"github.com/qrlogin/qrlogin/protocol/rendezvous"
)

// tamperingSession is a rendezvous session that, when armed, flips one bit
// of the next payload it writes: a man in the middle on the rendezvous
// server. Both generations put unpadded standard base64 of the ciphertext
// on the wire; the bit flipped is in the last byte, inside the AEAD tag,
// so the peer's decryption must fail.
type tamperingSession struct {
	rendezvous.Session
	armed atomic.Bool
}

func (t *tamperingSession) Send(ctx context.Context, payload string) error {
	if t.armed.CompareAndSwap(true, false) {
		payload = flipLastBit(payload)
	}
	return t.Session.Send(ctx, payload)
}

// flipLastBit flips the lowest bit of the last decoded byte of a base64
// payload; a payload that is not base64 gets its last character changed.
func flipLastBit(payload string) string {
	trimmed := strings.TrimRight(payload, "=")
	b, err := base64.RawStdEncoding.DecodeString(trimmed)
	if err != nil || len(b) == 0 {
		if payload == "" {
			return "A"
		}
		last := payload[len(payload)-1] ^ 1
		return payload[:len(payload)-1] + string(last)
	}
	b[len(b)-1] ^= 1
	out := base64.RawStdEncoding.EncodeToString(b)
	if len(trimmed) != len(payload) {
		out = base64.StdEncoding.EncodeToString(b)
	}
	return out
}
