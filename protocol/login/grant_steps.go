package login

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode"

	"github.com/qrlogin/qrlogin/protocol/internal/httpx"

	"github.com/qrlogin/qrlogin/protocol/matrix"
	"github.com/qrlogin/qrlogin/protocol/msc4108"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// deviceCheckInterval is how often the existing device asks whether the
// new device is on the account after m.login.success (matrix-rust-sdk's
// grant flow asks every 500 ms, docs/protocol-divergences.md).
const deviceCheckInterval = 500 * time.Millisecond

// maxDeviceID bounds the device ID a new device may announce; Matrix sets
// no limit, but an ID that long is not one a client made up honestly.
const maxDeviceID = 255

// grant runs MSC4108 over the trusted channel as the existing device that
// generated the QR code: no m.login.protocols (the new device took the
// server from the QR code, "1. Homeserver discovery"), then steps 3 to 6
// and "Secret sharing and device verification". Each step is a method of
// its own; an error that the new device must hear about is a *sendFailure.
func (g *Grant) grant(ctx context.Context, acct *account) (*GrantResult, error) {
	proposal, uri, err := g.receiveProtocol(ctx, acct)
	if err != nil {
		return nil, err
	}
	if err := g.checkDeviceAbsent(ctx, acct, proposal.DeviceID); err != nil {
		return nil, err
	}
	if err := g.openVerificationURI(uri); err != nil {
		return nil, err
	}
	if err := g.send(ctx, msc4108.Simple{Type: msc4108.TypeProtocolAccepted}); err != nil {
		return nil, g.otherWroteFirst(ctx, err, msc4108.TypeProtocolAccepted)
	}
	if err := g.awaitSuccess(ctx); err != nil {
		return nil, err
	}
	if err := g.awaitDevice(ctx, acct, proposal.DeviceID); err != nil {
		return nil, err
	}
	g.emit(NewDeviceSignedIn{DeviceID: proposal.DeviceID})
	sent, err := g.shareSecrets(ctx)
	if err != nil {
		return nil, err
	}
	if sent {
		g.leaveLastMessage(ctx)
	} else {
		deleteQuietly(g.sess) // the new device has read all we sent
	}
	return &GrantResult{DeviceID: proposal.DeviceID, SecretsSent: sent}, nil
}

// receiveProtocol reads m.login.protocol, which the new device sends as
// soon as it has started the device authorization (MSC4108 "3. New device
// informs existing device"; matrix-js-sdk sends it before the user can have
// typed the check code, so it usually waits on the rendezvous already). It
// returns the proposal and the page to open: verification_uri_complete,
// else verification_uri (MSC4108 "4. Existing device checks device_id and
// accepts protocol to use"), as this computer parsed and checked it.
func (g *Grant) receiveProtocol(ctx context.Context, acct *account) (*msc4108.Protocol, string, error) {
	raw, err := g.receive(ctx, vocab.PaceReply)
	if err != nil {
		return nil, "", err
	}
	defer clear(raw)
	var p msc4108.Protocol
	if err := g.expect(raw, msc4108.TypeProtocol, &p); err != nil {
		return nil, "", err
	}
	if p.Protocol != msc4108.ProtocolDeviceGrant {
		return nil, "", &sendFailure{reason: msc4108.ReasonUnsupportedProtocol,
			err: fmt.Errorf("%w (%q)", ErrUnsupportedProtocol, httpx.Clip(p.Protocol, 64))}
	}
	malformed := func(what string) error {
		return &sendFailure{reason: msc4108.ReasonUnexpectedMessageReceived,
			err: &UnexpectedMessageError{Got: "m.login.protocol " + what, Want: msc4108.TypeProtocol + " with a device ID and a verification URI"}}
	}
	if !plausibleDeviceID(p.DeviceID) {
		return nil, "", malformed("without a usable device_id")
	}
	if p.DeviceGrant == nil || p.DeviceGrant.VerificationURI == "" {
		return nil, "", malformed("without device_authorization_grant.verification_uri")
	}
	// MSC4108 "Malicious client sends arbitrary verification URI": open
	// only https pages (plain http on loopback only for an account on a
	// plain-http loopback homeserver), and refuse the whole proposal if
	// either URI breaks the rule.
	uri := ""
	for _, raw := range []string{p.DeviceGrant.VerificationURI, p.DeviceGrant.VerificationURIComplete} {
		if raw == "" {
			continue
		}
		checked, err := checkVerificationURI(raw, acct.plainHTTP)
		if err != nil {
			return nil, "", &sendFailure{reason: msc4108.ReasonUnableToOpenVerificationURI, err: err}
		}
		uri = checked // verification_uri_complete when there is one
	}
	return &p, uri, nil
}

// plausibleDeviceID accepts what Matrix clients make device IDs of (random
// letters, or rust-sdk's unpadded base64 key) and refuses empty or huge
// IDs, "." and ".." (which GET /devices/{id} would resolve to another
// path), and control or invisible format characters (Unicode Cc and Cf:
// zero-width, bidirectional overrides), which make an ID look like
// another.
func plausibleDeviceID(id string) bool {
	if id == "" || len(id) > maxDeviceID || id == "." || id == ".." {
		return false
	}
	for _, r := range id {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar {
			return false
		}
	}
	return true
}

// checkVerificationURI applies the rule for a page this computer would
// open and returns the page's address as parsed, the only form that is
// opened or shown. The page must be https: the rendezvous transport rule
// also allows plain http on loopback, which would let a new device have
// the browser open a service on this machine, so that is allowed only
// when plainHTTPLoopback says the account's own homeserver is such a
// service (the dev homeserver).
func checkVerificationURI(uri string, plainHTTPLoopback bool) (string, error) {
	u, err := rendezvous.CheckURL(uri)
	if err != nil || u.Scheme != "https" && !plainHTTPLoopback {
		return "", fmt.Errorf("%w (%q)", ErrUnsafeVerificationURI, httpx.Clip(uri, 200))
	}
	return u.String(), nil
}

// checkDeviceAbsent asserts that the announced device is not on the
// account yet (MSC4108 "4. Existing device checks device_id"): only a 404
// about the device (deviceNotFound) lets the grant go on. Any other
// answer, or none, is device_already_exists to the new device, as
// matrix-rust-sdk does; this device's caller gets the real cause.
func (g *Grant) checkDeviceAbsent(ctx context.Context, acct *account, deviceID string) error {
	_, err := g.device(ctx, acct, deviceID)
	switch {
	case deviceNotFound(err):
		return nil
	case ctx.Err() != nil:
		return ErrCancelled
	case err == nil:
		return &sendFailure{reason: msc4108.ReasonDeviceAlreadyExists,
			err: fmt.Errorf("%w (%s)", ErrDeviceAlreadyExists, httpx.Clip(deviceID, 64))}
	}
	return &sendFailure{reason: msc4108.ReasonDeviceAlreadyExists,
		err: fmt.Errorf("login: could not check that the new device's ID is unused: %w", err)}
}

// deviceNotFound reports whether err is the homeserver saying that there
// is no such device: a 404 with errcode M_NOT_FOUND (Matrix spec "GET
// /_matrix/client/v3/devices/{deviceId}"), or with no Matrix error body at
// all. A 404 with another errcode, such as M_UNRECOGNIZED from a server
// or proxy that does not serve the endpoint, says nothing about the
// device.
func deviceNotFound(err error) bool {
	var me *matrix.Error
	return errors.As(err, &me) && me.Status == http.StatusNotFound && (me.Errcode == "M_NOT_FOUND" || me.Errcode == "")
}

// client is a client-server API client with a fresh access token of the
// account (GrantConfig.AccessToken: valid for a while yet).
func (g *Grant) client(ctx context.Context, acct *account) (*matrix.Client, error) {
	token, err := g.cfg.AccessToken(ctx)
	if err != nil {
		return nil, fmt.Errorf("login: the account's access token: %w", err)
	}
	return matrix.NewClient(g.cfg.HTTP, acct.baseURL, token), nil
}

// device asks the homeserver for one of the account's devices, with a
// fresh access token.
func (g *Grant) device(ctx context.Context, acct *account, deviceID string) (*matrix.Device, error) {
	c, err := g.client(ctx, acct)
	if err != nil {
		return nil, err
	}
	return c.Device(ctx, deviceID)
}

// openVerificationURI opens the consent page in the system browser, if
// this front end can, and says where it is (MSC4108 "4. Existing device
// checks device_id and accepts protocol to use"). A browser that cannot
// be started is unable_to_open_verification_uri.
func (g *Grant) openVerificationURI(uri string) error {
	opened := false
	if g.cfg.OpenURI != nil {
		if err := g.cfg.OpenURI(uri); err != nil {
			return &sendFailure{reason: msc4108.ReasonUnableToOpenVerificationURI, err: fmt.Errorf("%w: %v", ErrVerificationURI, err)}
		}
		opened = true
	}
	g.emit(VerificationURI{URI: uri, Opened: opened})
	return nil
}

// awaitSuccess waits while the user consents in the browser and the new
// device polls for its token (MSC4108 steps 5 and 6), for m.login.success.
// m.login.failure ends the grant with that reason (matrix-js-sdk reports a
// denial as user_cancelled), m.login.declined with ErrDeclined (the
// MSC4108 step 6 diagram); neither is answered.
func (g *Grant) awaitSuccess(ctx context.Context) error {
	raw, err := g.receive(ctx, vocab.PaceHuman)
	if err != nil {
		return err
	}
	if typ, _ := decodeMessage(raw); typ == msc4108.TypeDeclined {
		deleteQuietly(g.sess) // the new device has ended (turn.afterReceive)
		return ErrDeclined
	}
	return g.expect(raw, msc4108.TypeSuccess, nil)
}

// awaitDevice checks that the new device really signed in before any
// secret goes to it (MSC4108 "1. Existing device confirms that the new
// device has indeed logged in successfully"): GET /devices/{id} every
// 500 ms for up to DeviceCreationTimeout, with one access token (the
// keyring is read once, not at every check); an error answer counts as
// not there yet.
func (g *Grant) awaitDevice(ctx context.Context, acct *account, deviceID string) error {
	deadline := time.Now().Add(g.cfg.DeviceCreationTimeout)
	c, err := g.client(ctx, acct)
	if err != nil {
		if ctx.Err() != nil {
			return ErrCancelled
		}
		return &sendFailure{reason: msc4108.ReasonDeviceNotFound, err: fmt.Errorf("%w: %w", ErrDeviceNotFound, err)}
	}
	var last error
	for {
		_, err := c.Device(ctx, deviceID)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ErrCancelled
		}
		if !deviceNotFound(err) {
			last = err
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			break
		}
		if httpx.Sleep(ctx, min(wait, deviceCheckInterval)) != nil {
			return ErrCancelled
		}
	}
	err = fmt.Errorf("%w within %v (%s)", ErrDeviceNotFound, g.cfg.DeviceCreationTimeout, httpx.Clip(deviceID, 64))
	if last != nil {
		// Kept matchable: a 401 here means the account's own session
		// ended, which the caller words apart.
		err = fmt.Errorf("%w; the last check failed: %w", err, last)
	}
	return &sendFailure{reason: msc4108.ReasonDeviceNotFound, err: err}
}

// leaveLastMessage gives the new device the grace period to read our last
// message, then deletes the rendezvous (nobody writes after it). A
// cancellation only shortens the wait: the grant is done.
func (g *Grant) leaveLastMessage(ctx context.Context) {
	_ = httpx.Sleep(ctx, g.grace)
	deleteQuietly(g.sess)
}
