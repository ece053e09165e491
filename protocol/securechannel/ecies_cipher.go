package securechannel

import (
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"golang.org/x/crypto/chacha20poly1305"
)

// Sizes fixed by vodozemac's ECIES (docs/protocol-divergences.md "ECIES
// channel").
const (
	eciesKeySize   = 32 // X25519 public keys and ChaCha20-Poly1305 keys
	eciesTagSize   = chacha20poly1305.Overhead
	eciesNonceSize = chacha20poly1305.NonceSize
)

var (
	errECIESAAD       = errors.New("the 2024 ECIES channel takes no additional data")
	errECIESExhausted = errors.New("the message counter is exhausted")
	errECIESAuth      = errors.New("the message failed authentication")
)

// eciesKey is a ChaCha20-Poly1305 key. It never prints its bytes.
type eciesKey [eciesKeySize]byte

// String keeps the key out of logs.
func (eciesKey) String() string { return "[redacted]" }

// GoString keeps the key out of %#v.
func (eciesKey) GoString() string { return "[redacted]" }

// Format keeps the key out of every other verb (%x, %d, ...).
func (eciesKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, "[redacted]") }

// eciesDirection is one direction of the channel: a key and the counter
// that makes its nonces.
type eciesDirection struct {
	key     eciesKey
	counter uint64
}

// Format keeps the key out of logs: fmt does not call the key's own Format
// when it reaches it through an unexported field.
func (eciesDirection) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, "[redacted]") }

// nextNonce returns the 12-byte nonce for the next message and consumes it:
// the counter written little-endian, starting at 0 in each direction
// (vodozemac src/ecies; the 2024 MSC text's "starts at 1" is wrong, and this
// is not HPKE's big-endian XOR scheme).
func (d *eciesDirection) nextNonce() ([eciesNonceSize]byte, error) {
	var nonce [eciesNonceSize]byte
	if d.counter == math.MaxUint64 {
		return nonce, errECIESExhausted
	}
	binary.LittleEndian.PutUint64(nonce[:8], d.counter)
	d.counter++
	return nonce, nil
}

// eciesCipher is the messageCipher of the 2024 generation: ChaCha20-Poly1305
// without additional data, one key and counter per direction.
type eciesCipher struct {
	mu     sync.Mutex
	send   eciesDirection
	recv   eciesDirection
	zeroed bool
}

// Format keeps both keys out of logs (see eciesDirection.Format).
func (*eciesCipher) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, "[redacted]") }

// newECIESCipher builds the cipher for one side. G sends with keyG and
// receives with keyS; S the other way round.
func newECIESCipher(sendKey, recvKey eciesKey) *eciesCipher {
	return &eciesCipher{send: eciesDirection{key: sendKey}, recv: eciesDirection{key: recvKey}}
}

// sealBytes encrypts the next outgoing message.
func (c *eciesCipher) sealBytes(plaintext []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.zeroed {
		return nil, ErrChannelClosed
	}
	nonce, err := c.send.nextNonce()
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.New(c.send.key[:])
	if err != nil {
		return nil, err
	}
	return aead.Seal(nil, nonce[:], plaintext, nil), nil
}

// openBytes decrypts the next incoming message. The receive counter moves on
// even when authentication fails, as in vodozemac: after one bad message the
// two sides are out of step for good, so the channel must be abandoned.
func (c *eciesCipher) openBytes(ciphertext []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.zeroed {
		return nil, ErrChannelClosed
	}
	nonce, err := c.recv.nextNonce()
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.New(c.recv.key[:])
	if err != nil {
		return nil, err
	}
	pt, err := aead.Open(nil, nonce[:], ciphertext, nil)
	if err != nil {
		return nil, errECIESAuth
	}
	return pt, nil
}

// seal implements messageCipher: the wire form is b64(ciphertext‖tag).
func (c *eciesCipher) seal(aad, plaintext []byte) (string, error) {
	if len(aad) != 0 {
		return "", errECIESAAD
	}
	ct, err := c.sealBytes(plaintext)
	if err != nil {
		return "", err
	}
	return encodeBase64(ct), nil
}

// open implements messageCipher. Text that is not base64 still consumes a
// counter value: the peer counted the message when it sent it. Channel.Receive
// wraps every error here in ErrDecrypt.
func (c *eciesCipher) open(aad []byte, wire string) ([]byte, error) {
	if len(aad) != 0 {
		return nil, errECIESAAD
	}
	ct, err := decodeBase64(wire)
	if err != nil {
		c.mu.Lock()
		if !c.zeroed {
			_, _ = c.recv.nextNonce()
		}
		c.mu.Unlock()
		return nil, err
	}
	return c.openBytes(ct)
}

// zero wipes both keys; the cipher refuses all work afterwards.
func (c *eciesCipher) zero() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.send.key[:])
	clear(c.recv.key[:])
	c.zeroed = true
}

// eciesEqual compares handshake plaintexts in constant time.
func eciesEqual(got []byte, want string) bool {
	return subtle.ConstantTimeCompare(got, []byte(want)) == 1
}
