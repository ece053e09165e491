package phone

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/protocol/matrix"
	"github.com/qrlogin/qrlogin/protocol/msc4108"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
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
	p := &run{cfg: cfg, res: &Result{}, scanEnd: scanEnd{
		role: phoneRole, http: cfg.HTTP, poll: cfg.Poll, homeserverURL: cfg.Homeserver.URL(), onCheckCode: cfg.OnCheckCode,
		delay: cfg.Script.Delay, tamperAt: cfg.Script.TamperAt, replayAt: cfg.Script.ReplayAt,
	}}
	err := p.run(ctx, qr)
	p.close()
	p.res.Generation, p.res.Variant, p.res.CheckCode = p.generation, p.variant, p.checkCode
	return p.res, err
}

type run struct {
	scanEnd
	cfg    Config
	res    *Result
	client *matrix.Client
}

func (p *run) run(ctx context.Context, qr []byte) error {
	payload, err := p.scan(ctx, qr)
	if err != nil {
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
		if err := awaitRelease(ctx, p.cfg.OutOfTurnAfter); err != nil {
			return err
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
		// The new device must answer unexpected_message_received.
		return p.unexpected(ctx, st, vocab.PaceReply)
	}
	if err := p.sleep(ctx); err != nil {
		return err
	}
	return p.send(ctx, st, msg)
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
	page, err := devserver.OpenConsentPage(ctx, p.cfg.HTTP, uri)
	if err != nil {
		return p.fail(ctx, msc4108.ReasonUnableToOpenVerificationURI, err)
	}
	code, err := p.cfg.Homeserver.UserCodeFor(proposal.DeviceID)
	if err != nil {
		return fmt.Errorf("phone: consent: %w", err)
	}
	p.res.UserCode = code
	action := devserver.ConsentApprove
	if p.cfg.Script.Deny {
		action = devserver.ConsentDeny
	}
	if err := page.Submit(ctx, code, action); err != nil {
		return fmt.Errorf("phone: consent: %w", err)
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
