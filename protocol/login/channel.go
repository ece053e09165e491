package login

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/qrlogin/qrlogin/protocol/msc4108"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// link is this device's end of the conversation with the other device,
// whichever role it plays (Flow: the new device; Grant: the existing
// device): the secure channel once the other device scanned, the
// rendezvous session under it, and whose turn it is to write (turn.go).
// Flow and Grant embed it and run it on their one goroutine.
type link struct {
	// ch is the channel once the other device scanned; it carries nothing
	// until the check code was confirmed.
	ch *securechannel.Channel
	// sess is the session the other device scanned, under ch (nil before
	// it scanned): its expiry, and deleting it.
	sess rendezvous.Session
	turn turn
	// grace is how long a last message stays on the rendezvous for the
	// other device to read before the session is deleted (sendFinal).
	grace time.Duration
}

// receive reads the other device's next message and moves the turn (see
// received).
func (l *link) receive(ctx context.Context, pace vocab.Pace) ([]byte, error) {
	return l.received(l.ch.Receive(ctx, pace))
}

// received moves the turn by what a receive ended with (turn.afterReceive)
// and maps an expired session to ErrRendezvousExpired. A receive run on
// another goroutine hands its result here on the flow's goroutine.
func (l *link) received(raw []byte, err error) ([]byte, error) {
	l.turn = l.turn.afterReceive(raw, err)
	if err != nil {
		return nil, mapRendezvousErr(err)
	}
	return raw, nil
}

// send writes a message on our turn; afterwards it is the other device's
// turn (turn.afterSend).
func (l *link) send(ctx context.Context, msg any) error {
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	return l.sendEncoded(ctx, b)
}

// sendEncoded is send for a message already encoded as JSON. It clears b
// afterwards: m.login.secrets carries private keys (messageJSON).
func (l *link) sendEncoded(ctx context.Context, b []byte) error {
	defer clear(b)
	err := l.ch.Send(ctx, b)
	l.turn = l.turn.afterSend(err)
	if err != nil {
		return mapRendezvousErr(err)
	}
	return nil
}

// otherWroteFirst reads what the other device wrote while it was our
// turn, when our message of type sent met a concurrent write (sendErr is
// rendezvous.ErrConcurrentWrite: MSC4388 409 M_CONCURRENT_WRITE, 2024
// 412); any other sendErr is returned as it is. Our send spent a nonce the
// other device never saw, so nothing more can be sent to it, but its
// message still opens and ends the flow (unsolicited). A message that
// does not open is securechannel.ErrDecrypt, as anywhere.
func (l *link) otherWroteFirst(ctx context.Context, sendErr error, sent string) error {
	if !errors.Is(sendErr, rendezvous.ErrConcurrentWrite) {
		return sendErr
	}
	raw, err := l.receive(ctx, vocab.PaceReply)
	if err != nil {
		return err
	}
	defer clear(raw)
	return unsolicited(raw, "nothing before "+sent)
}

// unsolicited is what a message the other device wrote when it was not its
// turn ends the flow with: its reason when it is m.login.failure (MSC4108:
// either device may give up at any step), otherwise an unexpected message
// (want says what was expected) that we report back.
func unsolicited(raw []byte, want string) error {
	typ, _ := decodeMessage(raw)
	if typ == msc4108.TypeFailure {
		return failureFrom(raw)
	}
	return &sendFailure{reason: msc4108.ReasonUnexpectedMessageReceived, err: &UnexpectedMessageError{Got: typ, Want: want}}
}

// expect checks that raw is a message of type want and decodes it into v
// (if not nil). A failure from the other device becomes *PhoneFailure;
// anything else is an unexpected message that we report back.
func (l *link) expect(raw []byte, want string, v any) error {
	typ, err := decodeMessage(raw)
	if err != nil {
		return &sendFailure{reason: msc4108.ReasonUnexpectedMessageReceived, err: err}
	}
	switch typ {
	case want:
	case msc4108.TypeFailure:
		return failureFrom(raw)
	default:
		return &sendFailure{reason: msc4108.ReasonUnexpectedMessageReceived, err: &UnexpectedMessageError{Got: typ, Want: want}}
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			return &sendFailure{reason: msc4108.ReasonUnexpectedMessageReceived, err: &UnexpectedMessageError{Got: "malformed " + typ, Want: want}}
		}
	}
	return nil
}

// deleteQuietly cancels a rendezvous session, best effort, even when the
// caller's context is already cancelled.
func deleteQuietly(s rendezvous.Session) {
	if s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.Cancel(ctx)
}

// mapRendezvousErr turns an expired session into ErrRendezvousExpired.
func mapRendezvousErr(err error) error {
	if errors.Is(err, rendezvous.ErrExpired) {
		return fmt.Errorf("%w: %v", ErrRendezvousExpired, err)
	}
	return err
}
