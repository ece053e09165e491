package securechannel

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// Role is the part a device plays in the handshake.
type Role int

const (
	// RoleGenerator (G) shows the QR code; it is the HPKE recipient.
	RoleGenerator Role = iota
	// RoleScanner (S) scans the QR code; it is the HPKE sender.
	RoleScanner
)

// Transport is the insecure message pipe a channel runs over: one
// rendezvous session as this device sees it (rendezvous.Session satisfies
// it). Use is strict ping-pong: Send only on our turn, then Receive the
// peer's answer (MSC4388 "The send mechanism").
//
// The channel passes the transport's errors through unchanged, so callers
// can match them (for example an expired session) with errors.Is against
// the transport's own error values.
type Transport interface {
	// Send replaces the payload on the server.
	Send(ctx context.Context, payload string) error
	// Receive waits until the peer wrote a payload this device has not seen
	// and returns it.
	Receive(ctx context.Context, pace vocab.Pace) (string, error)
	// Token is the session's current version marker as this device last
	// saw it (the MSC4388 sequence_token; the 2024 ETag, unused there).
	// MSC4388 binds it into every AAD (section "Secure operations").
	Token() string
}

// Binding names the rendezvous session a channel runs over. MSC4388 binds
// it into every AAD (section "Secure operations"); ECIES ignores it.
type Binding struct {
	// BaseURL is the homeserver base URL as carried in the QR code; the
	// channel normalises it the way the reference URL parser does before
	// putting it in the AAD.
	BaseURL string
	// RendezvousID is the MSC4388 rendezvous session ID.
	RendezvousID string
}

// messageCipher seals and opens the messages after the handshake (and the
// handshake's own ciphertexts) for one generation. Implementations keep the
// per-direction counters; a failed open must leave the channel unusable
// where the generation demands it.
type messageCipher interface {
	seal(aad, plaintext []byte) (wire string, err error)
	open(aad []byte, wire string) ([]byte, error)
	zero()
}

// CheckCode is the two-digit code shown on S and typed on G
// (MSC4388 step 6/7; 2024: two digits that may start with 0).
type CheckCode struct {
	digits string // e.g. "41" or "07"
}

// String returns the digits as the scanning device shows them.
func (c CheckCode) String() string { return c.digits }

// Value returns the code as a number (0..99).
func (c CheckCode) Value() int {
	n, _ := strconv.Atoi(c.digits)
	return n
}

// Errors that end a channel. Callers match them with errors.Is.
var (
	// ErrCheckCodeMismatch: the typed code differs from ours. The attempt
	// must end; never retry on the same channel.
	ErrCheckCodeMismatch = errors.New("securechannel: the check code does not match")
	// ErrCheckCodeFormat: the typed code is not one or two digits.
	ErrCheckCodeFormat = errors.New("securechannel: the check code must be one or two digits")
	// ErrNotConfirmed: G tried to send before the check code was confirmed.
	ErrNotConfirmed = errors.New("securechannel: the check code has not been confirmed yet")
	// ErrChannelClosed: the channel failed earlier or was closed.
	ErrChannelClosed = errors.New("securechannel: the channel is closed")
	// ErrDecrypt: a message failed to authenticate (tampered, replayed,
	// reordered, or from someone else).
	ErrDecrypt = errors.New("securechannel: a message failed to decrypt")
	// ErrHandshake: a handshake message was malformed or had the wrong content.
	ErrHandshake = errors.New("securechannel: invalid handshake message")
)

// Channel is an established secure channel. On G it carries nothing until
// Confirm accepted the user's check code. It is not safe for concurrent use
// by several goroutines beyond Close.
type Channel struct {
	gen    vocab.Generation
	role   Role
	sess   Transport
	cipher messageCipher
	// aad builds the additional authenticated data for a given rendezvous
	// token; nil for generations without AAD. It fails when the token cannot
	// be encoded (MSC4388: longer than 255 bytes).
	aad       func(token string) ([]byte, error)
	code      CheckCode
	confirmed bool
	// sendSpent: a sealed message never reached the transport, so its
	// nonce is gone and nothing this side seals can open on the peer any
	// more; receiving still works (Send).
	sendSpent bool

	mu     sync.Mutex // guards closed: Close may come from any goroutine
	closed bool
}

// Generation reports which protocol stack the channel speaks.
func (c *Channel) Generation() vocab.Generation { return c.gen }

// CheckCode is the code S displays (and G expects).
func (c *Channel) CheckCode() CheckCode { return c.code }

// Confirm compares the code the user typed on G with the channel's code,
// numerically (a phone may show the 2024 code 07 as "7") and in constant
// time. A mismatch closes the channel; a code ParseCheckCode refuses does
// not.
func (c *Channel) Confirm(typed string) error {
	n, err := ParseCheckCode(typed)
	if err != nil {
		return err
	}
	want := c.code.Value()
	if subtle.ConstantTimeEq(int32(n), int32(want)) != 1 {
		c.Close()
		return ErrCheckCodeMismatch
	}
	c.confirmed = true
	return nil
}

// Send seals plaintext and writes it to the transport. It is only
// allowed on our turn (strict ping-pong). When the transport refuses the
// write, this side sends no more, but Receive still opens the peer's
// messages: a write refused because the peer wrote first (MSC4388 409,
// 2024 412) leaves the peer's message to be read.
func (c *Channel) Send(ctx context.Context, plaintext []byte) error {
	if err := c.usable(); err != nil {
		return err
	}
	if c.sendSpent {
		return ErrChannelClosed
	}
	if c.role == RoleGenerator && !c.confirmed {
		return ErrNotConfirmed
	}
	// Seal with the token from the last GET (MSC4388 "Secure operations").
	var aad []byte
	if c.aad != nil {
		var err error
		if aad, err = c.aad(c.sess.Token()); err != nil {
			c.Close()
			return err
		}
	}
	wire, err := c.cipher.seal(aad, plaintext)
	if err != nil {
		c.Close()
		return err
	}
	if err := c.sess.Send(ctx, wire); err != nil {
		// The message used up a nonce the peer never saw: a retry would
		// not open, so this side's sending ends here. The directions have
		// separate keys and counters (HPKE: the primary and the response
		// context; ECIES: one key and counter each way), so what the peer
		// sealed still opens.
		c.sendSpent = true
		return err
	}
	return nil
}

// Receive waits for the peer's next message and opens it. A message that
// fails to open closes the channel with ErrDecrypt.
func (c *Channel) Receive(ctx context.Context, pace vocab.Pace) ([]byte, error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	// Open with the token that was current when the peer wrote: ours from
	// the last PUT, snapshotted before polling (docs/protocol-divergences.md
	// "AAD token snapshot").
	var aad []byte
	if c.aad != nil {
		var err error
		if aad, err = c.aad(c.sess.Token()); err != nil {
			c.Close()
			return nil, err
		}
	}
	wire, err := c.sess.Receive(ctx, pace)
	if err != nil {
		return nil, err
	}
	pt, err := c.cipher.open(aad, wire)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	return pt, nil
}

// Close zeroes the channel's keys. The transport is left alone: ending the
// rendezvous session is the caller's decision.
func (c *Channel) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		c.cipher.zero()
	}
}

func (c *Channel) usable() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrChannelClosed
	}
	return nil
}
