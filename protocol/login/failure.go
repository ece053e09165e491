package login

import (
	"context"
	"errors"
	"time"

	"github.com/qrlogin/qrlogin/protocol/internal/httpx"
	"github.com/qrlogin/qrlogin/protocol/msc4108"
)

// sendFailure marks an error that the other device must be told about
// with m.login.failure and the given reason.
type sendFailure struct {
	reason string
	err    error
}

func (e *sendFailure) Error() string { return e.err.Error() }
func (e *sendFailure) Unwrap() error { return e.err }

// tellPhone makes sure the other device (the phone in Flow, the new
// device in Grant) hears about a failure (MSC4108: never leave it
// waiting): on our turn send m.login.failure, wait for it to be read, then
// delete the rendezvous; otherwise delete at once.
func (l *link) tellPhone(ctx context.Context, err error) error {
	reason := ""
	var sf *sendFailure
	switch {
	case errors.As(err, &sf):
		reason = sf.reason
		err = sf.err
	case ctx.Err() != nil || errors.Is(err, ErrCancelled):
		reason = msc4108.ReasonUserCancelled
		err = ErrCancelled
	case errors.Is(err, ErrDeclined):
		// m.login.declined ended it: Flow sent it (awaitApproval), Grant
		// received it from the new device (awaitSuccess). Either way the
		// rendezvous is gone and nobody is left to tell.
		return err
	}
	var pf *PhoneFailure
	if reason == "" && !errors.As(err, &pf) {
		reason = msc4108.ReasonUserCancelled // a local error the MSC has no reason for
	}
	if reason != "" {
		_ = l.sendFinal(ctx, msc4108.Failure{Type: msc4108.TypeFailure, Reason: reason})
	} else {
		deleteQuietly(l.sess)
	}
	return err
}

// sendFinal sends a last message on our turn even when ctx was cancelled,
// leaves it for the other device to read for the grace period, and deletes
// the rendezvous. When it is not our turn it only deletes the rendezvous.
func (l *link) sendFinal(ctx context.Context, msg any) error {
	if l.ch == nil || !l.turn.ours() {
		deleteQuietly(l.sess)
		return nil
	}
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := l.send(bg, msg)
	if err == nil {
		_ = httpx.Sleep(bg, l.grace)
	}
	deleteQuietly(l.sess)
	return err
}
