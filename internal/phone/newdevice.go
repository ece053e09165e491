package phone

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/qrlogin/qrlogin/protocol/matrix"
	"github.com/qrlogin/qrlogin/protocol/msc4108"
	"github.com/qrlogin/qrlogin/protocol/oauth"
	"github.com/qrlogin/qrlogin/protocol/qrcode"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// Consenter plays the person on the consent page at the verification URI:
// *devserver.Server satisfies it. A real authorization server offers
// nothing like it; the dev homeserver does, for tests and demos.
type Consenter interface {
	// UserCodeFor finds the pending request for deviceID.
	UserCodeFor(deviceID string) (string, error)
	Approve(userCode string) error
	Deny(userCode string) error
}

// NewDeviceConfig sets up one scripted new device (RunNewDevice).
type NewDeviceConfig struct {
	// HTTP sends every request (nil: a client with a 30 s timeout).
	HTTP *http.Client
	// Poll sets the rendezvous poll intervals (zero: the defaults).
	Poll rendezvous.PollConfig
	// DeviceID is the device ID the new device asks for (default: a fresh
	// ID of 10 characters from [A-Z0-9]). Pass an ID the account already
	// has to make the existing device answer device_already_exists.
	DeviceID string
	// Consent, when set, approves (or, with Script.Deny, denies) the
	// request on the consent page as soon as m.login.protocol_accepted
	// arrives, the way the person at the existing device's browser would.
	// Nil: someone else decides (the existing device's browser, the test).
	Consent Consenter
	// Script makes the new device misbehave; the zero value behaves.
	Script NewDeviceScript
	// OnCheckCode receives the check code once the channel is up, as the
	// new device's screen would show it (the person types it on the
	// existing device). It must not block.
	OnCheckCode func(code string)
	// OnProtocolSent receives what m.login.protocol proposed, and the user
	// code the new device shows. It must not block.
	OnProtocolSent func(ProtocolSent)
	// OutOfTurnAfter, when not nil, holds the out-of-turn write of
	// Script.FailOutOfTurnAfter until it is closed, so that a test can
	// place it before the existing device's next write.
	OutOfTurnAfter <-chan struct{}
}

// ProtocolSent is what the new device proposed in m.login.protocol.
type ProtocolSent struct {
	// Homeserver is the base URL the new device found from the QR code.
	Homeserver string
	DeviceID   string
	// Protocol is the protocol named (device_authorization_grant unless
	// the script says otherwise).
	Protocol                string
	VerificationURI         string
	VerificationURIComplete string
	// UserCode is what the new device shows for the consent page
	// (RFC 8628 section 3.3).
	UserCode string
}

// NewDeviceResult is what the scripted new device saw.
type NewDeviceResult struct {
	Generation vocab.Generation
	Variant    vocab.Variant
	CheckCode  string
	// Homeserver is the base URL discovered from the QR code ("" if
	// discovery did not happen or failed).
	Homeserver string
	// DeviceID and UserCode as sent in m.login.protocol and shown.
	DeviceID string
	UserCode string
	// Accepted: m.login.protocol_accepted arrived.
	Accepted bool
	// SignedIn: the token endpoint issued tokens (the device exists now).
	SignedIn bool
	// UserID is whoami's answer for the new token.
	UserID string
	// SuccessSent: m.login.success was sent.
	SuccessSent bool
	// Secrets describes m.login.secrets; nil when none arrived.
	Secrets *SecretsReport
}

// SecretsReport describes an m.login.secrets message without its keys.
type SecretsReport struct {
	MasterKey, SelfSigningKey, UserSigningKey bool // present and non-empty
	Backup                                    bool // backup member present
	BackupVersion                             string
	// Verified: the cross-signing keys (and the backup key, if sent) match
	// what the homeserver publishes for the account.
	Verified bool
	// Problem says why Verified is false.
	Problem string
}

// CrossSigning reports whether all three cross-signing keys arrived.
func (r *SecretsReport) CrossSigning() bool {
	return r != nil && r.MasterKey && r.SelfSigningKey && r.UserSigningKey
}

// RunNewDevice scans the QR code shown by an existing device (MSC4388
// intent 0x01, 2024 mode 0x04) and runs the new device's side of MSC4108 to
// the end, the way matrix-js-sdk's new device does when it scanned:
//
//  1. join the rendezvous named by the QR code and complete the secure
//     channel as the scanning device S, showing the check code;
//  2. find the homeserver (MSC4388: base URL in the QR code; 2024: the
//     server name in it, through /.well-known/matrix/client), discover its
//     OAuth 2.0 metadata, register a client, start the device
//     authorization, and send m.login.protocol at once: a new device that
//     scanned expects no m.login.protocols (MSC4108 "1. Homeserver
//     discovery");
//  3. receive one message: m.login.protocol_accepted goes on, a failure
//     ends the run;
//  4. poll the token endpoint until the user decides (access_denied:
//     m.login.failure user_cancelled or m.login.declined; expired:
//     authorization_expired), ask whoami, send m.login.success;
//  5. receive m.login.secrets (checked against the keys the homeserver
//     publishes) or m.login.failure.
//
// It returns the result so far with any error: nil after m.login.secrets
// arrived; *ExistingDeviceFailure when the existing device sent
// m.login.failure; ErrUserDenied after a denial; *SentFailureError when the
// new device sent m.login.failure; a rendezvous.ErrExpired when the
// session vanished (expired, or deleted by the existing device).
// Discovery, registration and device-authorization errors end the run
// without a message to the existing device, as both reference new devices
// do (docs/protocol-divergences.md).
func RunNewDevice(ctx context.Context, cfg NewDeviceConfig, qr []byte) (*NewDeviceResult, error) {
	if err := cfg.Script.Validate(); err != nil {
		return nil, err
	}
	if cfg.Script.Deny && cfg.Consent == nil {
		return nil, errors.New("phone: Script.Deny needs a Consent to deny with")
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.DeviceID == "" {
		cfg.DeviceID = NewDeviceIDString()
	}
	d := &newDevice{cfg: cfg, res: &NewDeviceResult{}, scanEnd: scanEnd{
		role: newDeviceRole, http: cfg.HTTP, poll: cfg.Poll, onCheckCode: cfg.OnCheckCode,
		delay: cfg.Script.Delay, delaySends: true, tamperAt: cfg.Script.TamperAt,
	}}
	err := d.run(ctx, qr)
	d.close()
	d.res.Generation, d.res.Variant, d.res.CheckCode = d.generation, d.variant, d.checkCode
	return d.res, err
}

// deviceIDAlphabet and deviceIDLength: the default device ID, 10
// characters as js-sdk's default, upper case and digits only so that it
// survives GET /devices/{id} unescaped.
const (
	deviceIDAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	deviceIDLength   = 10
)

// NewDeviceIDString returns a fresh random device ID of 10 characters from
// [A-Z0-9].
func NewDeviceIDString() string {
	b := make([]byte, deviceIDLength)
	for i := range b {
		b[i] = deviceIDAlphabet[randIndex(len(deviceIDAlphabet))]
	}
	return string(b)
}

// randIndex is a uniform random index below n (n <= 256) by rejection.
func randIndex(n int) int {
	limit := 256 - 256%n
	var one [1]byte
	for {
		_, _ = rand.Read(one[:])
		if int(one[0]) < limit {
			return int(one[0]) % n
		}
	}
}

type newDevice struct {
	scanEnd
	cfg    NewDeviceConfig
	res    *NewDeviceResult
	base   string
	client *oauth.Client
	auth   *oauth.DeviceAuthorization
	token  *oauth.Token
}

func (d *newDevice) run(ctx context.Context, qr []byte) error {
	payload, err := d.scan(ctx, qr)
	if err != nil {
		return err
	}

	switch d.cfg.Script.actionAt(StepProtocol) {
	case actSilent:
		return d.listen(ctx, StepProtocol)
	case actFail:
		return d.fail(ctx, d.cfg.Script.FailReason, nil)
	case actUnexpected:
		return d.unexpected(ctx, StepProtocol, vocab.PaceHuman)
	}
	if err := d.authorize(ctx, payload); err != nil {
		return err
	}
	if err := d.sendProtocol(ctx); err != nil {
		return err
	}
	if d.cfg.Script.FailOutOfTurnAfter == StepProtocol {
		return d.failOutOfTurn(ctx)
	}

	// One message: protocol_accepted, or a failure. Anything else ends the
	// run without a word, as js-sdk does. The existing device waits for a
	// person typing the check code first, hence the human pace.
	if err := d.expect(ctx, vocab.PaceHuman, msc4108.TypeProtocolAccepted, nil); err != nil {
		return err
	}
	d.res.Accepted = true

	if d.cfg.Script.actionAt(StepSuccess) == actSilent {
		return d.listen(ctx, StepSuccess)
	}
	if !d.cfg.Script.SkipToken {
		if err := d.awaitToken(ctx); err != nil {
			return err
		}
	}
	switch d.cfg.Script.actionAt(StepSuccess) {
	case actFail:
		return d.fail(ctx, d.cfg.Script.FailReason, nil)
	case actUnexpected:
		return d.unexpected(ctx, StepSuccess, vocab.PaceHuman)
	}
	if err := d.send(ctx, StepSuccess, msc4108.Simple{Type: msc4108.TypeSuccess}); err != nil {
		return err
	}
	d.res.SuccessSent = true
	if d.cfg.Script.FailOutOfTurnAfter == StepSuccess {
		return d.failOutOfTurn(ctx)
	}

	// The existing device looks for the device (up to 10 s) first.
	raw, err := d.receive(ctx, vocab.PaceHuman)
	if err != nil {
		return err
	}
	defer clear(raw) // m.login.secrets carries the account's private keys
	if typ, _ := msc4108.TypeOf(raw); typ != msc4108.TypeSecrets {
		// js-sdk's new device answers this one (MSC4108 reason
		// unexpected_message_received).
		return d.fail(ctx, msc4108.ReasonUnexpectedMessageReceived,
			&UnexpectedMessageError{Got: typ, Want: msc4108.TypeSecrets, From: "the existing device"})
	}
	d.res.Secrets = d.reportSecrets(ctx, raw)
	return nil
}

// homeserverOf finds the client-server base URL the QR code names: MSC4388
// carries it; the 2024 code carries the existing device's server name (a
// bare name as js-sdk writes, or a URL as rust-sdk writes), resolved through
// /.well-known/matrix/client.
func (d *newDevice) homeserverOf(ctx context.Context, q qrcode.Payload) (string, error) {
	if q.Generation == vocab.MSC4388 {
		return strings.TrimRight(q.BaseURL, "/"), nil
	}
	name := strings.TrimSpace(q.ServerName)
	if name == "" {
		return "", errors.New("phone: the QR code names no homeserver")
	}
	if !strings.Contains(name, "://") && isLoopbackHostPort(name) {
		// The dev homeserver speaks plain HTTP on 127.0.0.1; a bare name
		// means https everywhere else.
		name = "http://" + name
	}
	return rendezvous.ResolveHomeserver(ctx, d.cfg.HTTP, name)
}

func isLoopbackHostPort(s string) bool {
	host := s
	if h, _, err := net.SplitHostPort(s); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// authorize discovers the homeserver's OAuth 2.0 API, registers a client
// and starts the device authorization (MSC4108 "2. New device checks if it
// can use an available protocol"), with js-sdk's stable scopes.
func (d *newDevice) authorize(ctx context.Context, q qrcode.Payload) error {
	base, err := d.homeserverOf(ctx, q)
	if err != nil {
		return fmt.Errorf("phone: finding the homeserver: %w", err)
	}
	d.base, d.res.Homeserver = base, base
	md, err := oauth.Discover(ctx, d.cfg.HTTP, base)
	if err != nil {
		return fmt.Errorf("phone: OAuth 2.0 discovery at %s: %w", base, err)
	}
	clientID, err := oauth.Register(ctx, d.cfg.HTTP, md)
	if err != nil {
		return fmt.Errorf("phone: client registration: %w", err)
	}
	scopes, err := oauth.Scopes(d.cfg.DeviceID, false)
	if err != nil {
		return fmt.Errorf("phone: device ID %q: %w", d.cfg.DeviceID, err)
	}
	d.client = &oauth.Client{HTTP: d.cfg.HTTP, Metadata: md, ClientID: clientID}
	if d.auth, err = d.client.StartDeviceAuthorization(ctx, scopes); err != nil {
		return fmt.Errorf("phone: device authorization: %w", err)
	}
	d.res.DeviceID, d.res.UserCode = d.cfg.DeviceID, d.auth.UserCode
	return nil
}

// sendProtocol sends m.login.protocol (MSC4108 "3. New device informs
// existing device ..."), with the members js-sdk sends.
func (d *newDevice) sendProtocol(ctx context.Context) error {
	protocol := msc4108.ProtocolDeviceGrant
	if d.cfg.Script.Protocol != "" {
		protocol = d.cfg.Script.Protocol
	}
	msg := msc4108.Protocol{
		Type: msc4108.TypeProtocol, Protocol: protocol, DeviceID: d.cfg.DeviceID,
		DeviceGrant: &msc4108.DeviceGrant{VerificationURI: d.auth.VerificationURI, VerificationURIComplete: d.auth.VerificationURIComplete},
	}
	if err := d.send(ctx, StepProtocol, msg); err != nil {
		return err
	}
	if d.cfg.OnProtocolSent != nil {
		d.cfg.OnProtocolSent(ProtocolSent{
			Homeserver: d.base, DeviceID: d.cfg.DeviceID, Protocol: protocol,
			VerificationURI: d.auth.VerificationURI, VerificationURIComplete: d.auth.VerificationURIComplete,
			UserCode: d.auth.UserCode,
		})
	}
	return nil
}

// awaitToken lets Consent decide (if set), polls the token endpoint
// (MSC4108 step 6) and answers a denial or an expiry the way js-sdk does
// (or rust-sdk, for a denial, with Script.AnswerDeclined).
func (d *newDevice) awaitToken(ctx context.Context) error {
	if c := d.cfg.Consent; c != nil {
		code, err := c.UserCodeFor(d.cfg.DeviceID)
		if err != nil {
			return fmt.Errorf("phone: consent: %w", err)
		}
		decide := c.Approve
		if d.cfg.Script.Deny {
			decide = c.Deny
		}
		if err := decide(code); err != nil {
			return fmt.Errorf("phone: consent: %w", err)
		}
	}
	tok, err := d.client.PollToken(ctx, d.auth)
	switch {
	case errors.Is(err, oauth.ErrAccessDenied):
		if d.cfg.Script.AnswerDeclined {
			if err := d.send(ctx, StepNone, msc4108.Simple{Type: msc4108.TypeDeclined}); err != nil {
				return err
			}
			return ErrUserDenied
		}
		return d.fail(ctx, msc4108.ReasonUserCancelled, ErrUserDenied)
	case errors.Is(err, oauth.ErrAuthorizationExpired):
		return d.fail(ctx, msc4108.ReasonAuthorizationExpired, err)
	case err != nil:
		return fmt.Errorf("phone: polling the token endpoint: %w", err)
	}
	d.token = tok
	d.res.SignedIn = true
	w, err := matrix.NewClient(d.cfg.HTTP, d.base, tok.AccessToken).Whoami(ctx)
	if err != nil {
		return fmt.Errorf("phone: the new session does not work: %w", err)
	}
	d.res.UserID = w.UserID
	return nil
}

// reportSecrets says which keys arrived and whether they match the keys
// the homeserver publishes, without keeping any of them.
func (d *newDevice) reportSecrets(ctx context.Context, raw []byte) *SecretsReport {
	r := &SecretsReport{}
	var wire msc4108.Secrets
	if err := json.Unmarshal(raw, &wire); err != nil {
		r.Problem = "malformed: " + err.Error()
		return r
	}
	r.MasterKey = wire.CrossSigning.MasterKey != ""
	r.SelfSigningKey = wire.CrossSigning.SelfSigningKey != ""
	r.UserSigningKey = wire.CrossSigning.UserSigningKey != ""
	if wire.Backup != nil {
		r.Backup, r.BackupVersion = true, wire.Backup.BackupVersion
	}
	wire = msc4108.Secrets{}
	if d.token == nil {
		r.Problem = "no access token to ask the homeserver with"
		return r
	}
	s, err := matrix.ParseSecrets(raw)
	if err != nil {
		r.Problem = err.Error()
		return r
	}
	defer s.Zero()
	if err := d.verifySecrets(ctx, s); err != nil {
		r.Problem = err.Error()
		return r
	}
	r.Verified = true
	return r
}

func (d *newDevice) verifySecrets(ctx context.Context, s *matrix.Secrets) error {
	mc := matrix.NewClient(d.cfg.HTTP, d.base, d.token.AccessToken)
	q, err := mc.QueryKeys(ctx, d.res.UserID)
	if err != nil {
		return err
	}
	if err := matrix.VerifyCrossSigning(s, d.res.UserID, q); err != nil {
		return err
	}
	if s.Backup == nil {
		return nil
	}
	current, err := mc.RoomKeysVersion(ctx)
	if err != nil {
		return err
	}
	if current == nil {
		return errors.New("a backup key arrived but the server has no key backup")
	}
	return matrix.VerifyBackup(s.Backup, current)
}

// failOutOfTurn writes m.login.failure with the script's reason while it
// is the existing device's turn, once OutOfTurnAfter lets it.
func (d *newDevice) failOutOfTurn(ctx context.Context) error {
	if err := awaitRelease(ctx, d.cfg.OutOfTurnAfter); err != nil {
		return err
	}
	return d.fail(ctx, d.cfg.Script.FailReason, nil)
}

// listen stays silent and reports whatever ends the wait (the rendezvous
// expiring or deleted, a failure from the existing device, ctx).
func (d *newDevice) listen(ctx context.Context, st Step) error {
	_, err := d.receive(ctx, vocab.PaceHuman)
	if err == nil {
		err = fmt.Errorf("phone: stayed silent at %s but the existing device wrote", st)
	}
	return err
}
