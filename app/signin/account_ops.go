package signin

import (
	"context"
	"net/http"
	"time"

	"github.com/qrlogin/qrlogin/app/accounts"
	"github.com/qrlogin/qrlogin/app/config"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/oauth"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// AccountRemover is the part of the account store signing out needs:
// Remove revokes and deletes under the store's lock, Delete forgets an
// account without the server.
type AccountRemover interface {
	Remove(userID string, revoke func(m accounts.Meta, access, refresh accounts.Secret) error) error
	Delete(userID string) error
}

// RevokeError means signing out failed at the server: it could not be
// reached, or it did not end the session. The account is kept, so nothing
// is lost and the user can try again, or choose RemoveLocally.
type RevokeError struct{ Err error }

func (e *RevokeError) Error() string {
	return "could not sign out at the server (the account is kept, try again): " + e.Err.Error()
}

func (e *RevokeError) Unwrap() error { return e.Err }

// Logout revokes an account's tokens at the OAuth revocation endpoint and
// then removes it from the keyring, all under the store's cross-process
// lock. If the server cannot be reached the account is kept and the error
// is a *RevokeError. The command line (`qrlogin logout`) and the window's
// Accounts screen both use it.
func Logout(ctx context.Context, store AccountRemover, user string) error {
	return store.Remove(user, func(m accounts.Meta, access, refresh accounts.Secret) error {
		if err := revokeSession(ctx, m, access, refresh); err != nil {
			return &RevokeError{Err: err}
		}
		return nil
	})
}

// RemoveLocally removes an account from this computer without contacting
// the server: its tokens and keys leave the keyring, but its session stays
// open and its device stays on the account until it is removed from
// another device. It is the way out when Logout cannot reach the server,
// offered only after the user confirms (`qrlogin logout --local`, the
// window's "Remove from this computer anyway").
func RemoveLocally(store AccountRemover, user string) error {
	return store.Delete(user)
}

// revokeSession ends a stored sign-in's session at the OAuth revocation
// endpoint (RFC 7009). Revoking the refresh token ends the whole session
// at MAS; the access token goes too, for servers that revoke only the
// token named. Without a revocation endpoint there is nothing to call.
func revokeSession(ctx context.Context, m accounts.Meta, access, refresh accounts.Secret) error {
	if m.RevocationEndpoint == "" {
		return nil
	}
	c := oauthClient(m)
	for _, t := range []struct {
		value accounts.Secret
		hint  string
	}{{refresh, oauth.HintRefreshToken}, {access, oauth.HintAccessToken}} {
		if t.value == "" {
			continue
		}
		if err := c.Revoke(ctx, t.value.Reveal(), t.hint); err != nil {
			return err
		}
	}
	return nil
}

// Refresh is the accounts.Refresher over OAuth: refresh tokens rotate, and
// the store saves the new one before the access token is used.
func Refresh(ctx context.Context, m accounts.Meta, refreshToken accounts.Secret) (accounts.Secret, accounts.Secret, time.Time, error) {
	tok, err := oauthClient(m).Refresh(ctx, refreshToken.Reveal())
	if err != nil {
		return "", "", time.Time{}, err
	}
	return accounts.Secret(tok.AccessToken), accounts.Secret(tok.RefreshToken), tok.Expiry, nil
}

func oauthClient(m accounts.Meta) *oauth.Client {
	return &oauth.Client{
		HTTP:     &http.Client{Timeout: 30 * time.Second},
		Metadata: &oauth.Metadata{Issuer: m.Issuer, TokenEndpoint: m.TokenEndpoint, RevocationEndpoint: m.RevocationEndpoint},
		ClientID: m.ClientID,
	}
}

// FlowConfig turns settings into a sign-in configuration; the terminal mode
// and the window both start sign-ins with it. It does no I/O: callers that
// keep state add ClientIDs (WithClientIDCache).
func FlowConfig(s config.Settings, homeserver string) login.Config {
	return login.Config{
		Homeserver:       homeserver,
		RendezvousServer: s.RendezvousServer,
		Preference:       s.Protocol,
		Variant:          vocab.Variant(s.MSC4388Variant),
		UnstableScopes:   s.UnstableScopes,
		Poll:             pollConfig(s),
	}
}

// pollConfig is the rendezvous polling of the settings' poll speed: the
// protocol's defaults (the zero PollConfig), or gentler ones.
func pollConfig(s config.Settings) rendezvous.PollConfig {
	if s.PollSpeed == config.PollGentle {
		return rendezvous.PollConfig{Reply: 500 * time.Millisecond, Human: 2 * time.Second}
	}
	return rendezvous.PollConfig{}
}

// WithClientIDCache makes the sign-in remember the OAuth client ID it
// registers at each issuer in the config folder, so the next sign-in does
// not register again (docs/protocol-divergences.md "Client registration").
// Without a config folder the sign-in simply registers each time.
func WithClientIDCache(cfg login.Config) login.Config {
	if ids, err := config.OpenClientIDs(); err == nil {
		cfg.ClientIDs = ids
	}
	return cfg
}
