package phone

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/qrlogin/qrlogin/protocol/rendezvous"
)

// tamperingSession is a rendezvous session that plays a man in the middle
// on the rendezvous server. When armed it flips one bit of the next payload
// it writes: both generations put unpadded standard base64 of the
// ciphertext on the wire; the bit flipped is in the last byte, inside the
// AEAD tag, so the peer's decryption must fail. When replay is armed it
// writes the phone's previous payload again instead of the next one: a
// recorded ciphertext played back, which the peer must refuse as well (its
// nonce, and for MSC4388 the sequence token in the AAD, are out of date).
type tamperingSession struct {
	rendezvous.Session
	armed  atomic.Bool
	replay atomic.Bool

	mu   sync.Mutex
	last string // the last payload this phone wrote, as it meant it
}

func (t *tamperingSession) Send(ctx context.Context, payload string) error {
	t.mu.Lock()
	previous := t.last
	t.last = payload
	t.mu.Unlock()
	if t.replay.CompareAndSwap(true, false) {
		if previous == "" {
			return errors.New("phone: nothing written yet to replay")
		}
		payload = previous
	}
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
