package login

import (
	"context"
	"errors"
	"net/http"

	"github.com/qrlogin/qrlogin/protocol/msc4108"
	"github.com/qrlogin/qrlogin/protocol/oauth"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// deviceGrant is the OAuth 2.0 device authorization this sign-in started
// (MSC4108 "2. New device checks if it can use an available protocol"):
// at which server, as which client, for which device ID.
type deviceGrant struct {
	base     string // client-server base URL the phone named
	metadata *oauth.Metadata
	client   *oauth.Client // its ClientID is the one the authorization was made with
	deviceID string
	auth     *oauth.DeviceAuthorization
}

// authorizeDevice discovers the homeserver's OAuth 2.0 API, finds or
// registers a client, and sends the RFC 8628 device authorization request
// for a fresh device ID (MSC4108 "2. New device checks if it can use an
// available protocol"). Every failure here is unsupported_protocol to the
// phone.
func (f *Flow) authorizeDevice(ctx context.Context, base string) (*deviceGrant, error) {
	unsupported := func(err error) error {
		return &sendFailure{reason: msc4108.ReasonUnsupportedProtocol, err: err}
	}
	md, err := oauth.Discover(ctx, f.cfg.HTTP, base)
	if err != nil {
		return nil, unsupported(err)
	}
	clientID, err := oauth.ClientIDFor(ctx, f.cfg.HTTP, md, f.cfg.ClientIDs)
	if err != nil {
		return nil, unsupported(err)
	}
	deviceID := oauth.NewDeviceID()
	scopes, err := oauth.Scopes(deviceID, f.cfg.UnstableScopes)
	if err != nil {
		return nil, unsupported(err)
	}
	client := &oauth.Client{HTTP: f.cfg.HTTP, Metadata: md, ClientID: clientID}
	da, err := client.StartDeviceAuthorization(ctx, scopes)
	if oe := (*oauth.Error)(nil); errors.As(err, &oe) && (oe.Code == "invalid_client" || oe.Status == http.StatusUnauthorized) {
		// The server forgot the cached client (or never knew it): register
		// again once and retry.
		if client.ClientID, err = oauth.Register(ctx, f.cfg.HTTP, md); err == nil {
			_ = f.cfg.ClientIDs.SetClientID(md.Issuer, client.ClientID)
			da, err = client.StartDeviceAuthorization(ctx, scopes)
		}
	}
	if err != nil {
		return nil, unsupported(err)
	}
	return &deviceGrant{base: base, metadata: md, client: client, deviceID: deviceID, auth: da}, nil
}

// offerDeviceGrant sends m.login.protocol: the device ID this device will
// sign in as and where the phone approves it (MSC4108 "3. New device
// informs existing device that it wants to use the
// device_authorization_grant").
func (f *Flow) offerDeviceGrant(ctx context.Context, g *deviceGrant) error {
	return f.send(ctx, msc4108.Protocol{
		Type: msc4108.TypeProtocol, Protocol: msc4108.ProtocolDeviceGrant, DeviceID: g.deviceID,
		DeviceGrant: &msc4108.DeviceGrant{VerificationURI: g.auth.VerificationURI, VerificationURIComplete: g.auth.VerificationURIComplete},
	})
}

// awaitProtocolAccepted waits for the phone to check the device ID and open
// the consent page (MSC4108 "4. Existing device checks device_id and
// accepts protocol to use"), then shows the user code, valid until the
// device code or the rendezvous ends, whichever is first (MSC4108 "6. New
// device waits for approval from homeserver": RFC 8628 wants it displayed).
func (f *Flow) awaitProtocolAccepted(ctx context.Context, g *deviceGrant) error {
	raw, err := f.receive(ctx, vocab.PaceReply)
	if err != nil {
		return err
	}
	if err := f.expect(raw, msc4108.TypeProtocolAccepted, nil); err != nil {
		return err
	}
	expires := f.sess.ExpiresAt()
	if !g.auth.Expiry.IsZero() && g.auth.Expiry.Before(expires) {
		expires = g.auth.Expiry
	}
	f.emit(UserCode{UserCode: g.auth.UserCode, VerificationURI: g.auth.VerificationURI, ExpiresAt: expires})
	return nil
}
