package login

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/qrlogin/qrlogin/protocol/qrcode"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// account is the checked part of a GrantConfig.
type account struct {
	baseURL    string // client-server base URL, no trailing slash
	serverName string // the user ID's domain
	// plainHTTP: the homeserver itself is plain http, which the transport
	// rule allows on this machine's loopback only (the dev homeserver).
	plainHTTP bool
}

// Run signs the other device in: MSC4108 with this desktop as the
// "existing device" that generated the QR code (MSC4388 role G). Every
// failure after the channel is trusted is told to the other device before
// Run returns. The secrets in the config are zeroed when Run returns. A
// Grant runs once: a second Run is refused and leaves the secrets to the
// first.
func (g *Grant) Run(ctx context.Context) (res *GrantResult, err error) {
	if !g.ran.CompareAndSwap(false, true) {
		// The secrets belong to the run that got here first.
		return nil, errors.New("login: this grant has already run; start a new one")
	}
	defer g.cfg.Secrets.zero()
	defer func() {
		if err != nil && ctx.Err() != nil && !errors.Is(err, ErrCancelled) {
			err = fmt.Errorf("%w (%v)", ErrCancelled, err)
		}
	}()
	acct, err := g.checkConfig()
	if err != nil {
		return nil, err
	}
	target, err := g.resolveTarget(ctx, acct)
	if err != nil {
		return nil, err
	}
	display := &qrDisplay{
		intent: qrcode.IntentExistingDevice, serverName: acct.serverName,
		variant: g.cfg.Variant, http: g.cfg.HTTP, poll: g.cfg.Poll, regen: g.regen, emit: g.emit,
	}
	if target.rendezvousURL == "" {
		display.token = g.cfg.AccessToken // the account's own homeserver only
	}
	ch, sess, err := display.untilScanned(ctx, target)
	if err != nil {
		return nil, err
	}
	defer ch.Close()
	g.ch, g.sess = ch, sess
	if err := g.confirm(ctx, &g.link, g.emit); err != nil {
		return nil, err
	}
	g.emit(SecureChannelEstablished{})

	res, err = g.grant(ctx, acct)
	if err != nil {
		return nil, g.tellPhone(ctx, err)
	}
	return res, nil
}

// checkConfig refuses a configuration the grant cannot work with, before
// anything is shown: the QR code names the account's server, and the
// secrets must be whole keys.
func (g *Grant) checkConfig() (*account, error) {
	if g.cfg.AccessToken == nil {
		return nil, errors.New("login: no access token for the account")
	}
	if strings.TrimSpace(g.cfg.Homeserver) == "" {
		return nil, errors.New("login: no homeserver given for the account")
	}
	u, err := rendezvous.CheckURL(g.cfg.Homeserver)
	if err != nil {
		return nil, err
	}
	server, err := serverNameOf(g.cfg.UserID)
	if err != nil {
		return nil, err
	}
	if err := g.cfg.Secrets.check(); err != nil {
		return nil, err
	}
	return &account{baseURL: strings.TrimRight(u.String(), "/"), serverName: server, plainHTTP: u.Scheme == "http"}, nil
}

// serverNameOf returns the server name of a Matrix user ID, the part after
// the first colon (Matrix spec "User Identifiers"): what js-sdk's existing
// device puts in the 2024 QR code (docs/protocol-divergences.md).
func serverNameOf(userID string) (string, error) {
	local, server, ok := strings.Cut(userID, ":")
	if !ok || !strings.HasPrefix(local, "@") || len(local) < 2 || server == "" {
		return "", fmt.Errorf("login: %q is not a Matrix user ID (@name:server)", userID)
	}
	return server, nil
}

// resolveTarget picks the generation for the account's homeserver as a
// sign-in does; the MSC4388 discovery is asked with the account's token,
// since servers may offer rendezvous sessions only to signed-in devices.
// An MSC4388 QR code names a single server for the rendezvous and for the
// account (MSC4388 "QR code format"), so a separate rendezvous server is
// used with the 2024 QR code only, and the token never goes there.
func (g *Grant) resolveTarget(ctx context.Context, acct *account) (*target, error) {
	q := targetQuery{http: g.cfg.HTTP, baseURL: acct.baseURL, preference: g.cfg.Preference, variant: g.cfg.Variant}
	if g.cfg.RendezvousServer == "" {
		token, err := g.cfg.AccessToken(ctx)
		if err != nil {
			return nil, fmt.Errorf("login: the account's access token: %w", err)
		}
		q.token = rendezvous.BearerToken(token)
		return chooseTarget(ctx, q)
	}
	pref, err := vocab.ParsePreference(g.cfg.Preference)
	if err != nil {
		return nil, err
	}
	if pref == vocab.PreferMSC4388 {
		return nil, errors.New("login: an MSC4388 QR code names one server for the rendezvous and the account, so a separate rendezvous server works only with the 2024 QR code")
	}
	q.rendezvousServer = g.cfg.RendezvousServer
	q.preference = string(vocab.PreferMSC4108v2024)
	q.onlyPreferred = true
	return chooseTarget(ctx, q)
}
