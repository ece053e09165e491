package login

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/qrlogin/qrlogin/protocol/msc4108"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// session is the rendezvous session under the channel to the phone, nil
// before a phone scanned. Every use of the session goes through here.
func (f *Flow) session() rendezvous.Session {
	if f.sess == nil {
		return nil
	}
	return f.sess
}

// receive reads the phone's next message and moves the turn (see received).
func (f *Flow) receive(ctx context.Context, pace vocab.Pace) ([]byte, error) {
	return f.received(f.ch.Receive(ctx, pace))
}

// received moves the turn by what a receive ended with (turn.afterReceive)
// and maps an expired session to ErrRendezvousExpired. A receive run on
// another goroutine hands its result here on the flow's goroutine.
func (f *Flow) received(raw []byte, err error) ([]byte, error) {
	f.turn = f.turn.afterReceive(raw, err)
	if err != nil {
		return nil, mapRendezvousErr(err)
	}
	return raw, nil
}

// send writes a message on our turn; afterwards it is the phone's turn
// (turn.afterSend).
func (f *Flow) send(ctx context.Context, msg any) error {
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	err = f.ch.Send(ctx, b)
	f.turn = f.turn.afterSend(err)
	if err != nil {
		return mapRendezvousErr(err)
	}
	return nil
}

// expect checks that raw is a message of type want and decodes it into v
// (if not nil). A failure from the phone becomes *PhoneFailure; anything
// else is an unexpected message that we report back.
func (f *Flow) expect(raw []byte, want string, v any) error {
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
