package phone

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/qrlogin/qrlogin/protocol/msc4108"
	"github.com/qrlogin/qrlogin/protocol/qrcode"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// role is how a scanning device reads the other device's messages: the
// phone (Run) reads the new device's, the scripted new device
// (RunNewDevice) the existing device's.
type role struct {
	// intent is the QR code intent this role scans; wrongIntent is the
	// error for any other.
	intent      qrcode.Intent
	wrongIntent error
	// peer names the other device in UnexpectedMessageError.From ("" is
	// the new device).
	peer string
	// malformed is wrapped around a message that is not MSC4108.
	malformed error
	// failure is what the peer's m.login.failure ends the run with.
	failure func(msc4108.Failure) error
	// declined is what the peer's m.login.declined ends the run with; nil:
	// it is just a message (the new device expects none).
	declined error
}

var (
	phoneRole = role{
		intent: qrcode.IntentNewDevice, wrongIntent: ErrNotNewDeviceCode,
		malformed: ErrMalformedMessage,
		failure:   func(f msc4108.Failure) error { return &PeerFailure{Reason: f.Reason} },
		declined:  ErrDeclined,
	}
	newDeviceRole = role{
		intent: qrcode.IntentExistingDevice, wrongIntent: ErrNotExistingDeviceCode,
		peer:      "the existing device",
		malformed: ErrMalformedFromExisting,
		failure: func(f msc4108.Failure) error {
			return &ExistingDeviceFailure{Reason: f.Reason, Homeserver: f.Homeserver}
		},
	}
)

// scanEnd is what the phone and the scripted new device share as the
// device that scans the other's QR code: joining the rendezvous (through a
// tamperingSession, the script's man in the middle), the secure channel
// as the scanning device S, and sending and reading messages on it.
type scanEnd struct {
	role
	http *http.Client
	poll rendezvous.PollConfig
	// homeserverURL is the ETag rendezvous client's homeserver ("" when
	// the 2024 QR code's session URL is enough).
	homeserverURL string
	onCheckCode   func(code string)

	// The script's delay, and whether send waits it before each message
	// (the new device) or the caller decides (the phone waits before its
	// steps, not before the failures its checks send).
	delay      time.Duration
	delaySends bool
	// The steps whose message the man in the middle tampers with or
	// replays.
	tamperAt, replayAt Step

	// What scanning saw, for the result; set as the run gets there.
	generation vocab.Generation
	variant    vocab.Variant
	checkCode  string

	sess *tamperingSession
	ch   *securechannel.Channel
}

// close ends the secure channel, if it came up.
func (e *scanEnd) close() {
	if e.ch != nil {
		e.ch.Close()
	}
}

// scan decodes the QR code, refuses one of the wrong intent, joins the
// rendezvous it names and completes the secure channel as the scanning
// device, showing the check code through onCheckCode.
func (e *scanEnd) scan(ctx context.Context, qr []byte) (qrcode.Payload, error) {
	q, err := qrcode.Decode(qr)
	if err != nil {
		return q, fmt.Errorf("phone: reading the QR code: %w", err)
	}
	if q.Intent != e.intent {
		return q, e.wrongIntent
	}
	var (
		sess    rendezvous.Session
		bind    securechannel.Binding
		variant = vocab.VariantReference
	)
	switch q.Generation {
	case vocab.MSC4388:
		path := rendezvous.PathUnstable
		if q.Prefix != "" && q.Prefix != qrcode.PrefixUnstable {
			variant, path = vocab.VariantMSCText, rendezvous.PathStable
		}
		c, cerr := rendezvous.NewClient(rendezvous.ClientConfig{BaseURL: q.BaseURL, HTTPClient: e.http, Path: path, Poll: e.poll})
		if cerr != nil {
			return q, cerr
		}
		sess, err = c.Join(ctx, q.BaseURL, q.RendezvousID)
		bind = securechannel.Binding{BaseURL: q.BaseURL, RendezvousID: q.RendezvousID}
	case vocab.MSC4108v2024:
		c, cerr := rendezvous.NewETagClient(rendezvous.ETagConfig{HomeserverURL: e.homeserverURL, HTTPClient: e.http, Poll: e.poll})
		if cerr != nil {
			return q, cerr
		}
		sess, err = c.Join(ctx, q.RendezvousURL)
	default:
		return q, fmt.Errorf("phone: unknown QR generation %q", q.Generation)
	}
	if err != nil {
		return q, fmt.Errorf("phone: joining the rendezvous: %w", err)
	}
	e.generation, e.variant = q.Generation, variant
	e.sess = &tamperingSession{Session: sess}
	ch, err := securechannel.Scan(ctx, q.Generation, variant, e.sess, q.PublicKey[:], bind)
	if err != nil {
		return q, fmt.Errorf("phone: secure channel: %w", err)
	}
	e.ch = ch
	e.checkCode = ch.CheckCode().String()
	if e.onCheckCode != nil {
		e.onCheckCode(e.checkCode)
	}
	return q, nil
}

// send seals and writes one message (after the script's delay, when
// delaySends), tampering with it or replaying the previous one if the
// script says so.
func (e *scanEnd) send(ctx context.Context, st Step, msg any) error {
	if e.delaySends {
		if err := e.sleep(ctx); err != nil {
			return err
		}
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	defer clear(b) // m.login.secrets carries the account's private keys
	if st != StepNone && e.tamperAt == st {
		e.sess.armed.Store(true)
	}
	if st != StepNone && e.replayAt == st {
		e.sess.replay.Store(true)
	}
	if err := e.ch.Send(ctx, b); err != nil {
		return fmt.Errorf("phone: sending %s: %w", messageName(st, msg), err)
	}
	return nil
}

// messageName names a message in errors: its step, else its type.
func messageName(st Step, msg any) string {
	if st != StepNone {
		return string(st)
	}
	if b, err := json.Marshal(msg); err == nil {
		if typ, err := msc4108.TypeOf(b); err == nil {
			return typ
		}
	}
	return "a message"
}

// fail sends m.login.failure with reason and ends the run.
func (e *scanEnd) fail(ctx context.Context, reason string, cause error) error {
	if err := e.send(ctx, StepNone, msc4108.Failure{Type: msc4108.TypeFailure, Reason: reason}); err != nil {
		return err
	}
	return &SentFailureError{Reason: reason, Err: cause}
}

// unexpected sends a message of a type nobody expects in place of the
// step's message; the peer must answer m.login.failure
// (unexpected_message_received), which ends the run.
func (e *scanEnd) unexpected(ctx context.Context, st Step, pace vocab.Pace) error {
	if err := e.send(ctx, st, msc4108.Simple{Type: typeUnexpected}); err != nil {
		return err
	}
	_, err := e.receive(ctx, pace)
	if err == nil {
		err = &UnexpectedMessageError{Got: "a reply", Want: "m.login.failure after an unexpected message", From: e.peer}
	}
	return err
}

// receive reads the peer's next message. Its m.login.failure (and, where
// the role says so, m.login.declined) ends the run.
func (e *scanEnd) receive(ctx context.Context, pace vocab.Pace) ([]byte, error) {
	raw, err := e.ch.Receive(ctx, pace)
	if err != nil {
		return nil, fmt.Errorf("phone: receiving: %w", err)
	}
	typ, err := messageType(raw, e.malformed)
	if err != nil {
		clear(raw)
		return nil, err
	}
	switch {
	case typ == msc4108.TypeFailure:
		var f msc4108.Failure
		_ = json.Unmarshal(raw, &f)
		return nil, e.failure(f)
	case typ == msc4108.TypeDeclined && e.declined != nil:
		return nil, e.declined
	}
	return raw, nil
}

// expect receives a message of type want into v (if not nil). Another type
// ends the run without telling the peer, as rust-sdk's grant flow and
// js-sdk's new device do.
func (e *scanEnd) expect(ctx context.Context, pace vocab.Pace, want string, v any) error {
	raw, err := e.receive(ctx, pace)
	if err != nil {
		return err
	}
	typ, _ := msc4108.TypeOf(raw)
	if typ != want {
		return &UnexpectedMessageError{Got: typ, Want: want, From: e.peer}
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			return fmt.Errorf("%w: %v", e.malformed, err)
		}
	}
	return nil
}

// sleep waits the script's delay.
func (e *scanEnd) sleep(ctx context.Context) error { return e.sleepAtLeast(ctx, 0) }

// sleepAtLeast waits the script's delay, or min if that is longer.
func (e *scanEnd) sleepAtLeast(ctx context.Context, min time.Duration) error {
	d := max(e.delay, min)
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

// awaitRelease waits until a test closes release (the OutOfTurnAfter of
// either role) or ctx ends; a nil release does not wait.
func awaitRelease(ctx context.Context, release <-chan struct{}) error {
	if release == nil {
		return nil
	}
	select {
	case <-release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
