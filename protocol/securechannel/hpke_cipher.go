package securechannel

import (
	"fmt"
	"io"
	"sync"
)

// hpkeSealer and hpkeOpener are the halves of an HPKE context the channel
// uses after the handshake: *hpke.Sender and *hpke.Recipient (the primary
// context) and *responseContext.
type hpkeSealer interface {
	Seal(aad, plaintext []byte) ([]byte, error)
}

type hpkeOpener interface {
	Open(aad, ciphertext []byte) ([]byte, error)
}

// hpkeCipher is the MSC4388 messageCipher. Four counters run in total, two
// per device (docs/protocol-divergences.md "Sequence numbers and nonces"):
// S seals with the primary sender context and opens with the response
// context; G seals with the response context and opens with the primary
// recipient context. Each continues after the handshake message it carried
// (the next is 1).
type hpkeCipher struct {
	mu       sync.Mutex
	sealer   hpkeSealer
	opener   hpkeOpener
	response *responseContext // one of the two above, kept to be zeroed
}

func (c *hpkeCipher) seal(aad, plaintext []byte) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sealer == nil {
		return "", ErrChannelClosed
	}
	ct, err := c.sealer.Seal(aad, plaintext)
	if err != nil {
		return "", err
	}
	return encodeBase64(ct), nil
}

func (c *hpkeCipher) open(aad []byte, wire string) ([]byte, error) {
	ct, err := decodeHPKEMessage(wire)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.opener == nil {
		return nil, ErrChannelClosed
	}
	return c.opener.Open(aad, ct)
}

// zero wipes the response context and drops the primary one. crypto/hpke
// keeps the primary key, base nonce and exporter secret unexported, so
// they can only be left to the garbage collector.
func (c *hpkeCipher) zero() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.response.zero()
	c.sealer, c.opener, c.response = nil, nil, nil
}

// Format keeps key material out of logs, whatever the verb.
func (c *hpkeCipher) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, "[redacted]")
}
