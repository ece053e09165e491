package phone

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/protocol/matrix"
	"github.com/qrlogin/qrlogin/protocol/msc4108"
	"github.com/qrlogin/qrlogin/protocol/qrcode"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// Homeserver is what the phone needs from its (development) homeserver
// beyond HTTP: *devserver.Server satisfies it.
type Homeserver interface {
	// URL is the client-server base URL.
	URL() string
	// LoginDevice signs the phone's own device in (its access token checks
	// the new device's ID).
	LoginDevice(deviceID string) (devserver.Tokens, error)
	// UserCodeFor finds the user code the new device shows for deviceID:
	// what a person reads off the screen and types on the consent page.
	UserCodeFor(deviceID string) (string, error)
	// AccountSecrets are the account's private keys for m.login.secrets.
	AccountSecrets() (devserver.AccountSecrets, error)
}

// DefaultDeviceID is the phone's own device ID.
const DefaultDeviceID = "QRLOGINPHONE"

// Config sets up one scan.
type Config struct {
	Homeserver Homeserver
	// HTTP sends every request (nil: a client with a 30 s timeout).
	HTTP *http.Client
	// Poll sets the rendezvous poll intervals (zero: the defaults).
	Poll rendezvous.PollConfig
	// Script makes the phone misbehave; the zero value behaves.
	Script Script
	// OnCheckCode receives the check code once the channel is up, as the
	// phone's screen would show it; the test or the user types it on the new
	// device. It must not block.
	OnCheckCode func(code string)
	// DeviceID is the phone's own device ID (default DefaultDeviceID).
	DeviceID string
	// OutOfTurnAfter, when not nil, holds the out-of-turn write of FailAt
	// or UnexpectedAt StepSuccess until it is closed, so that a test can
	// place it between the new device's token and its m.login.success.
	OutOfTurnAfter <-chan struct{}
}

// Result is what the phone saw.
type Result struct {
	Generation  vocab.Generation
	Variant     vocab.Variant
	CheckCode   string
	NewDeviceID string // from m.login.protocol; "" if it never came
	UserCode    string // the code approved or denied on the consent page
}

// Run scans the QR payload and runs the existing device's side of the
// sign-in to the end. It returns the result so far with any error: nil
// after m.login.secrets was sent; ErrDeclined after a Deny; *PeerFailure
// when the new device gave up; *SentFailureError when the phone did; a
// rendezvous.ErrExpired when the session vanished (expired or deleted by
// the new device, e.g. after a check-code mismatch).
func Run(ctx context.Context, cfg Config, qr []byte) (*Result, error) {
	if cfg.Homeserver == nil {
		return nil, errors.New("phone: no homeserver")
	}
	if err := cfg.Script.Validate(); err != nil {
		return nil, err
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.DeviceID == "" {
		cfg.DeviceID = DefaultDeviceID
	}
	p := &run{cfg: cfg, res: &Result{}}
	err := p.run(ctx, qr)
	if p.ch != nil {
		p.ch.Close()
	}
	return p.res, err
}

type run struct {
	cfg    Config
	res    *Result
	sess   *tamperingSession
	ch     *securechannel.Channel
	client *matrix.Client
}

func (p *run) run(ctx context.Context, qr []byte) error {
	payload, err := qrcode.Decode(qr)
	if err != nil {
		return fmt.Errorf("phone: reading the QR code: %w", err)
	}
	if payload.Intent != qrcode.IntentNewDevice {
		return ErrNotNewDeviceCode
	}
	if err := p.connect(ctx, payload); err != nil {
		return err
	}
	tokens, err := p.cfg.Homeserver.LoginDevice(p.cfg.DeviceID)
	if err != nil {
		return fmt.Errorf("phone: signing the phone itself in: %w", err)
	}
	p.client = matrix.NewClient(p.cfg.HTTP, p.cfg.Homeserver.URL(), tokens.AccessToken.Reveal())

	// m.login.protocols, at once (docs/protocol-divergences.md
	// "Existing-device flow").
	if err := p.step(ctx, StepProtocols, p.protocolsMessage(payload.Generation)); err != nil {
		return err
	}

	// m.login.protocol: the new device's proposal. The new device waits for
	// a person typing the check code first, hence the human pace.
	var proposal msc4108.Protocol
	if err := p.expect(ctx, vocab.PaceHuman, msc4108.TypeProtocol, &proposal); err != nil {
		return err
	}
	p.res.NewDeviceID = proposal.DeviceID
	if proposal.Protocol != msc4108.ProtocolDeviceGrant || proposal.DeviceGrant == nil || proposal.DeviceGrant.VerificationURI == "" {
		return p.fail(ctx, msc4108.ReasonUnsupportedProtocol, fmt.Errorf("phone: protocol %q is not the device grant", proposal.Protocol))
	}
	// Anything but a 404 means the ID is taken (or cannot be checked):
	// rust-sdk answers device_already_exists either way.
	if _, err := p.client.Device(ctx, proposal.DeviceID); !matrix.IsNotFound(err) {
		return p.fail(ctx, msc4108.ReasonDeviceAlreadyExists, fmt.Errorf("phone: device %s: %v", proposal.DeviceID, err))
	}
	if err := p.step(ctx, StepProtocolAccepted, msc4108.Simple{Type: msc4108.TypeProtocolAccepted}); err != nil {
		return err
	}

	// The consent page (MSC4108 step 5).
	switch p.cfg.Script.actionAt(StepConsent) {
	case actFail:
		// This failure follows our own protocol_accepted: the rendezvous
		// holds one payload, so give the new device time to read that first
		// (a person takes seconds on the consent page anyway).
		if err := p.sleepAtLeast(ctx, consentReadGrace); err != nil {
			return err
		}
		return p.fail(ctx, p.cfg.Script.FailReason, nil)
	case actSilent:
	default:
		if err := p.consent(ctx, proposal); err != nil {
			return err
		}
	}

	// Out of turn after the consent page, when the script says so.
	if act := p.cfg.Script.actionAt(StepSuccess); act == actFail || act == actUnexpected {
		if p.cfg.OutOfTurnAfter != nil {
			select {
			case <-p.cfg.OutOfTurnAfter:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return p.step(ctx, StepSuccess, nil)
	}

	// m.login.success (or declined / failure).
	if err := p.expect(ctx, vocab.PaceHuman, msc4108.TypeSuccess, nil); err != nil {
		return err
	}
	if err := p.waitForDevice(ctx, proposal.DeviceID); err != nil {
		return p.fail(ctx, msc4108.ReasonDeviceNotFound, err)
	}
	secrets, err := p.secretsMessage()
	if err != nil {
		return err
	}
	return p.step(ctx, StepSecrets, secrets)
}

// connect joins the rendezvous named by the QR code and completes the
// secure channel as the scanning device.
func (p *run) connect(ctx context.Context, q qrcode.Payload) error {
	var (
		sess    rendezvous.Session
		bind    securechannel.Binding
		variant = vocab.VariantReference
		err     error
	)
	switch q.Generation {
	case vocab.MSC4388:
		path := rendezvous.PathUnstable
		if q.Prefix != "" && q.Prefix != qrcode.PrefixUnstable {
			variant, path = vocab.VariantMSCText, rendezvous.PathStable
		}
		c, cerr := rendezvous.NewClient(rendezvous.ClientConfig{BaseURL: q.BaseURL, HTTPClient: p.cfg.HTTP, Path: path, Poll: p.cfg.Poll})
		if cerr != nil {
			return cerr
		}
		sess, err = c.Join(ctx, q.BaseURL, q.RendezvousID)
		bind = securechannel.Binding{BaseURL: q.BaseURL, RendezvousID: q.RendezvousID}
	case vocab.MSC4108v2024:
		c, cerr := rendezvous.NewETagClient(rendezvous.ETagConfig{HomeserverURL: p.cfg.Homeserver.URL(), HTTPClient: p.cfg.HTTP, Poll: p.cfg.Poll})
		if cerr != nil {
			return cerr
		}
		sess, err = c.Join(ctx, q.RendezvousURL)
	default:
		return fmt.Errorf("phone: unknown QR generation %q", q.Generation)
	}
	if err != nil {
		return fmt.Errorf("phone: joining the rendezvous: %w", err)
	}
	p.res.Generation, p.res.Variant = q.Generation, variant
	p.sess = &tamperingSession{Session: sess}
	ch, err := securechannel.Scan(ctx, q.Generation, variant, p.sess, q.PublicKey[:], bind)
	if err != nil {
		return fmt.Errorf("phone: secure channel: %w", err)
	}
	p.ch = ch
	p.res.CheckCode = ch.CheckCode().String()
	if p.cfg.OnCheckCode != nil {
		p.cfg.OnCheckCode(p.res.CheckCode)
	}
	return nil
}

// protocolsMessage is m.login.protocols as each generation's reference
// sends it (docs/protocol-divergences.md "base_url vs homeserver").
func (p *run) protocolsMessage(gen vocab.Generation) msc4108.Protocols {
	m := msc4108.Protocols{Type: msc4108.TypeProtocols, Protocols: []string{msc4108.ProtocolDeviceGrant}}
	base := p.cfg.Homeserver.URL()
	switch {
	case gen == vocab.MSC4388:
		m.BaseURL = base
	case p.cfg.Script.HomeserverAsServerName:
		if u, err := url.Parse(base); err == nil && u.Host != "" {
			m.Homeserver = u.Host
		}
	default:
		m.Homeserver = base + "/"
	}
	return m
}

// step sends the step's message, or what the script puts in its place.
func (p *run) step(ctx context.Context, st Step, msg any) error {
	switch p.cfg.Script.actionAt(st) {
	case actSilent:
		// Keep listening: whatever the new device says next ends the run.
		_, err := p.receive(ctx, vocab.PaceHuman)
		if err == nil {
			err = fmt.Errorf("phone: stayed silent at %s", st)
		}
		return err
	case actFail:
		if err := p.sleep(ctx); err != nil {
			return err
		}
		return p.fail(ctx, p.cfg.Script.FailReason, nil)
	case actUnexpected:
		msg = msc4108.Simple{Type: typeUnexpected}
		if err := p.send(ctx, st, msg); err != nil {
			return err
		}
		// The new device must answer unexpected_message_received.
		_, err := p.receive(ctx, vocab.PaceReply)
		if err == nil {
			err = &UnexpectedMessageError{Got: "a reply", Want: "m.login.failure after an unexpected message"}
		}
		return err
	}
	if err := p.sleep(ctx); err != nil {
		return err
	}
	return p.send(ctx, st, msg)
}

// send seals and writes one message, tampering with it if the script says so.
func (p *run) send(ctx context.Context, st Step, msg any) error {
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	defer clear(b) // m.login.secrets carries the account's private keys
	if st != StepNone && p.cfg.Script.TamperAt == st {
		p.sess.armed.Store(true)
	}
	if st != StepNone && p.cfg.Script.ReplayAt == st {
		p.sess.replay.Store(true)
	}
	if err := p.ch.Send(ctx, b); err != nil {
		return fmt.Errorf("phone: sending %s: %w", st, err)
	}
	return nil
}

// fail sends m.login.failure with reason and ends the run.
func (p *run) fail(ctx context.Context, reason string, cause error) error {
	if err := p.send(ctx, StepNone, msc4108.Failure{Type: msc4108.TypeFailure, Reason: reason}); err != nil {
		return err
	}
	return &SentFailureError{Reason: reason, Err: cause}
}

// receive reads the new device's next message.
func (p *run) receive(ctx context.Context, pace vocab.Pace) ([]byte, error) {
	raw, err := p.ch.Receive(ctx, pace)
	if err != nil {
		return nil, fmt.Errorf("phone: receiving: %w", err)
	}
	typ, err := messageType(raw)
	if err != nil {
		return nil, err
	}
	switch typ {
	case msc4108.TypeFailure:
		var f msc4108.Failure
		_ = json.Unmarshal(raw, &f)
		return nil, &PeerFailure{Reason: f.Reason}
	case msc4108.TypeDeclined:
		return nil, ErrDeclined
	}
	return raw, nil
}

// expect receives a message of type want into v. Another type ends the
// run as rust-sdk's grant flow does: without telling the new device.
func (p *run) expect(ctx context.Context, pace vocab.Pace, want string, v any) error {
	raw, err := p.receive(ctx, pace)
	if err != nil {
		return err
	}
	typ, _ := messageType(raw)
	if typ != want {
		return &UnexpectedMessageError{Got: typ, Want: want}
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			return fmt.Errorf("%w: %v", ErrMalformedMessage, err)
		}
	}
	return nil
}

// consent opens the verification URI the new device sent, as the phone's
// browser would, and approves or denies the pending request there.
func (p *run) consent(ctx context.Context, proposal msc4108.Protocol) error {
	if err := p.sleep(ctx); err != nil {
		return err
	}
	uri := proposal.DeviceGrant.VerificationURI
	if _, err := rendezvous.CheckURL(uri); err != nil {
		return p.fail(ctx, msc4108.ReasonUnableToOpenVerificationURI, err)
	}
	if err := p.visit(ctx, http.MethodGet, uri, nil); err != nil {
		return p.fail(ctx, msc4108.ReasonUnableToOpenVerificationURI, err)
	}
	code, err := p.cfg.Homeserver.UserCodeFor(proposal.DeviceID)
	if err != nil {
		return fmt.Errorf("phone: consent: %w", err)
	}
	p.res.UserCode = code
	action := "approve"
	if p.cfg.Script.Deny {
		action = "deny"
	}
	form := url.Values{"user_code": {code}, "action": {action}}
	if err := p.visit(ctx, http.MethodPost, uri, form); err != nil {
		return fmt.Errorf("phone: consent: %w", err)
	}
	return nil
}

// visit loads the consent page (GET) or submits its form (POST).
func (p *run) visit(ctx context.Context, method, uri string, form url.Values) error {
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequestWithContext(ctx, method, uri, body)
	if err != nil {
		return err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := p.cfg.HTTP.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("phone: consent page %s %s: HTTP %d", method, uri, resp.StatusCode)
	}
	return nil
}

// waitForDevice polls the device list until the new device exists
// (rust-sdk: every 500 ms for up to 10 s).
func (p *run) waitForDevice(ctx context.Context, deviceID string) error {
	timeout := p.cfg.Script.DeviceCreationTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		_, err := p.client.Device(ctx, deviceID)
		if err == nil {
			return nil
		}
		if !matrix.IsNotFound(err) && ctx.Err() == nil {
			return fmt.Errorf("phone: looking for device %s: %w", deviceID, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("phone: device %s did not appear within %v", deviceID, timeout)
		case <-tick.C:
		}
	}
}

// consentReadGrace is how long the phone waits after its
// m.login.protocol_accepted before writing again out of turn (a failure
// from the consent page): long enough for a new device polling at the
// human pace (1 s) to have read the previous message.
const consentReadGrace = 1500 * time.Millisecond

// sleep waits the script's delay.
func (p *run) sleep(ctx context.Context) error { return p.sleepAtLeast(ctx, 0) }

// sleepAtLeast waits the script's delay, or min if that is longer.
func (p *run) sleepAtLeast(ctx context.Context, min time.Duration) error {
	d := max(p.cfg.Script.Delay, min)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
