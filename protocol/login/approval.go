package login

import (
	"context"
	"errors"

	"github.com/qrlogin/qrlogin/protocol/msc4108"
	"github.com/qrlogin/qrlogin/protocol/oauth"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// awaitApproval waits for the user's answer on the consent page (MSC4108
// "5. User is asked by homeserver to consent on existing device" and "6.
// New device waits for approval from homeserver"). A denial is answered
// with m.login.declined and an expired device code with m.login.failure
// authorization_expired, as the step 6 sequence diagram shows. alive
// reports whether the channel can still carry the secrets. A token that
// arrived is returned even with an error, so that it can be revoked.
func (f *Flow) awaitApproval(ctx context.Context, g *deviceGrant) (token *oauth.Token, alive bool, err error) {
	token, alive, err = f.pollWhileWatching(ctx, g.client, g.auth)
	if err != nil && token != nil {
		return token, alive, err
	}
	switch {
	case errors.Is(err, oauth.ErrAccessDenied):
		_ = f.sendFinal(ctx, msc4108.Simple{Type: msc4108.TypeDeclined})
		return nil, alive, ErrDeclined
	case errors.Is(err, oauth.ErrAuthorizationExpired):
		return nil, alive, &sendFailure{reason: msc4108.ReasonAuthorizationExpired, err: ErrAuthorizationExpired}
	case err != nil:
		return nil, alive, err
	}
	return token, alive, nil
}

// pollWhileWatching polls the token endpoint and, at the same time, the
// rendezvous: a phone that gives up (m.login.failure) or a message that
// does not open ends the wait at once. If only the rendezvous dies (servers
// end it 60-300 s after it was created), polling goes on undisturbed (its
// RFC 8628 interval intact): the approval can still arrive, and the sign-in
// then finishes without the encryption secrets (alive false). A token that
// arrived is returned even with an error, so the caller can revoke it.
func (f *Flow) pollWhileWatching(ctx context.Context, client *oauth.Client, da *oauth.DeviceAuthorization) (token *oauth.Token, alive bool, err error) {
	pollCtx, cancelPoll := context.WithCancel(ctx)
	defer cancelPoll()
	watchCtx, cancelWatch := context.WithCancel(ctx)
	type watched struct {
		raw []byte
		err error
	}
	watchDone := make(chan watched, 1)
	go func() {
		raw, err := f.ch.Receive(watchCtx, vocab.PaceHuman)
		if err == nil || errors.Is(err, securechannel.ErrDecrypt) {
			cancelPoll() // the phone wrote (it can only be giving up), or someone tampered
		}
		watchDone <- watched{raw, err}
	}()
	token, pollErr := client.PollToken(pollCtx, da)
	cancelWatch()
	w := <-watchDone
	// The turn moves here, on the flow's goroutine: ours after a message,
	// nobody's after m.login.failure or once the channel or session is
	// gone, unchanged when we stopped the watch ourselves.
	raw, werr := f.received(w.raw, w.err)
	switch {
	case werr == nil:
		// The phone wrote while we waited: it may only be a failure.
		return token, false, unsolicited(raw, "nothing while waiting for approval")
	case errors.Is(w.err, securechannel.ErrDecrypt):
		// The channel is not safe any more; the sign-in must not finish through it.
		return token, false, w.err
	}
	// The watcher ended because we stopped it (alive), or because the
	// rendezvous died: then there is no turn to take any more.
	alive = errors.Is(w.err, context.Canceled)
	if pollErr != nil {
		if ctx.Err() != nil {
			return token, alive, ErrCancelled
		}
		return token, alive, pollErr
	}
	return token, alive, nil
}
