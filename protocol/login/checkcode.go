package login

import (
	"context"
	"sync"

	"github.com/qrlogin/qrlogin/protocol/securechannel"
)

// checkCodeInput hands the digits the user types from the UI's goroutine
// to the one the sign-in runs on, once, and only while they are asked
// for. Flow and Grant embed it.
type checkCodeInput struct {
	codes  chan string
	mu     sync.Mutex
	asking bool
}

func newCheckCodeInput() checkCodeInput {
	return checkCodeInput{codes: make(chan string, 1)}
}

// submit passes code on if it is being asked for; it reports whether it
// was taken. A code that cannot be one (securechannel.ParseCheckCode) is
// not taken and the flow keeps asking: only a well-formed code that
// differs ends the attempt.
func (in *checkCodeInput) submit(code string) bool {
	if _, err := securechannel.ParseCheckCode(code); err != nil {
		return false
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.asking {
		return false
	}
	in.asking = false
	in.codes <- code
	return true
}

func (in *checkCodeInput) setAsking(asking bool) {
	in.mu.Lock()
	in.asking = asking
	in.mu.Unlock()
}

// SubmitCheckCode hands over the digits the user typed. It is accepted
// once, and only after CheckCodeNeeded; it reports whether it was taken.
func (f *Flow) SubmitCheckCode(code string) bool { return f.submit(code) }

// confirmCheckCode asks the user for the phone's check code (MSC4388 step
// 7). A mismatch ends the attempt: the channel is not trusted, so nothing
// is sent; the rendezvous is deleted at once.
func (f *Flow) confirmCheckCode(ctx context.Context) error {
	return f.confirm(ctx, &f.link, f.emit)
}

// confirm asks for the check code the device that scanned shows and
// compares it with the channel's (MSC4388 "Establishment" step 7; in
// either MSC4108 role the device that showed the QR code types it). The
// wait ends with the rendezvous session. A mismatch ends the attempt: the
// channel is not trusted, so nothing is sent; the rendezvous is deleted at
// once, which stops the other device too.
func (in *checkCodeInput) confirm(ctx context.Context, l *link, emit func(Event)) error {
	in.setAsking(true)
	defer in.setAsking(false)
	emit(CheckCodeNeeded{})
	waitCtx, cancel := context.WithDeadline(ctx, l.sess.ExpiresAt())
	defer cancel()
	select {
	case code := <-in.codes:
		if err := l.ch.Confirm(code); err != nil {
			deleteQuietly(l.sess)
			return err
		}
		return nil
	case <-waitCtx.Done():
		deleteQuietly(l.sess)
		if ctx.Err() != nil {
			return ErrCancelled
		}
		return ErrRendezvousExpired
	}
}
