package login

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/qrlogin/qrlogin/protocol/oauth"
)

// Revoke ends the session a sign-in obtained, at the OAuth revocation
// endpoint (RFC 7009; MAS ends the whole session, and the homeserver
// deletes the device, whichever token is revoked). It is for a sign-in that
// cannot be kept: one that failed after the tokens arrived, or whose
// account could not be stored. Otherwise the account would keep a device
// that nothing on this computer can use or sign out. hc nil means a client
// with a 10 s timeout.
func (r *Result) Revoke(ctx context.Context, hc *http.Client) error {
	if r == nil || r.Metadata == nil || (r.Token.RefreshToken == "" && r.Token.AccessToken == "") {
		return nil
	}
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	c := &oauth.Client{HTTP: hc, Metadata: r.Metadata, ClientID: r.ClientID}
	token, hint := r.Token.RefreshToken, oauth.HintRefreshToken
	if token == "" {
		token, hint = r.Token.AccessToken, oauth.HintAccessToken
	}
	err := c.Revoke(ctx, token, hint)
	if errors.Is(err, oauth.ErrRevocationUnsupported) {
		return nil // nothing more this computer can do
	}
	return err
}

// abandon revokes the tokens of a sign-in that failed after they arrived,
// best effort, even when ctx was cancelled.
func (f *Flow) abandon(ctx context.Context, res *Result) {
	if res == nil {
		return
	}
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = res.Revoke(bg, f.cfg.HTTP)
}
