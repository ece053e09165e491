package login

import (
	"context"

	"github.com/qrlogin/qrlogin/protocol/securechannel"
)

// SubmitCheckCode hands over the digits the user typed. It is accepted
// once, and only after CheckCodeNeeded; it reports whether it was taken. A
// code that cannot be one (securechannel.ParseCheckCode) is not taken and
// the flow keeps asking: only a well-formed code that differs ends the
// attempt.
func (f *Flow) SubmitCheckCode(code string) bool {
	if _, err := securechannel.ParseCheckCode(code); err != nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.asking {
		return false
	}
	f.asking = false
	f.codes <- code
	return true
}

// confirmCheckCode asks the user for the phone's check code (MSC4388 step
// 7). A mismatch ends the attempt: the channel is not trusted, so nothing
// is sent; the rendezvous is deleted at once.
func (f *Flow) confirmCheckCode(ctx context.Context) error {
	f.mu.Lock()
	f.asking = true
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.asking = false
		f.mu.Unlock()
	}()
	f.emit(CheckCodeNeeded{})
	waitCtx, cancel := context.WithDeadline(ctx, f.session().ExpiresAt())
	defer cancel()
	select {
	case code := <-f.codes:
		if err := f.ch.Confirm(code); err != nil {
			deleteQuietly(f.session())
			return err
		}
		return nil
	case <-waitCtx.Done():
		deleteQuietly(f.session())
		if ctx.Err() != nil {
			return ErrCancelled
		}
		return ErrRendezvousExpired
	}
}
