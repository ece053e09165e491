package jssdk_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/msc4108"
	"github.com/qrlogin/qrlogin/protocol/qrcode"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
)

// These drive qrlogin's existing-device flow (login.Grant) against
// matrix-js-sdk's new device that scans its 2024 QR code.

// jsDeviceID is the device ID the js-sdk peer announces, so that the test's
// browser can find the consent to give.
const jsDeviceID = "JSSDKNEWDEVICE"

// consent is what the test's browser does on the consent page the grant
// opens.
type consent int

const (
	approve consent = iota
	deny
)

// grantHarness is a login.Grant for the dev account, signed in as
// gDeviceID, running on its own goroutine.
type grantHarness struct {
	t      *testing.T
	g      *login.Grant
	qr     chan login.QRReady
	done   chan struct{}
	res    *login.GrantResult
	err    error
	mu     sync.Mutex
	events []login.Event
}

// startGrant runs the grant with the account's secrets (nil when
// withSecrets is false); the browser it opens gives or refuses consent
// for jsDeviceID.
func startGrant(ctx context.Context, t *testing.T, dev *devserver.Server, withSecrets bool, c consent) *grantHarness {
	t.Helper()
	tokens, err := dev.LoginDevice(gDeviceID)
	if err != nil {
		t.Fatal(err)
	}
	var secrets *login.GrantSecrets
	if withSecrets {
		acct, err := dev.AccountSecrets()
		if err != nil {
			t.Fatal(err)
		}
		raw := func(s devserver.Secret) []byte {
			b, err := base64.RawStdEncoding.DecodeString(s.Reveal())
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		secrets = &login.GrantSecrets{MasterKey: raw(acct.MasterKey), SelfSigningKey: raw(acct.SelfSigningKey),
			UserSigningKey: raw(acct.UserSigningKey), BackupKey: raw(acct.BackupKey), BackupVersion: acct.BackupVersion}
	}
	h := &grantHarness{t: t, qr: make(chan login.QRReady, 4), done: make(chan struct{})}
	h.g = login.NewGrant(login.GrantConfig{
		Homeserver:  dev.URL(),
		UserID:      dev.UserID(),
		AccessToken: func(context.Context) (string, error) { return tokens.AccessToken.Reveal(), nil },
		Secrets:     secrets,
		Preference:  "msc4108-2024",
		Poll:        rendezvous.PollConfig{Reply: 100 * time.Millisecond, Human: 250 * time.Millisecond},
		// js-sdk polls the rendezvous every second: the last message must
		// stay long enough for it to read (the default 3 s).
		OpenURI: func(uri string) error {
			// The browser: the consent page waits for the user code the
			// new device shows, which the dev server tells the test.
			go func() {
				code, err := dev.UserCodeFor(jsDeviceID)
				if err == nil {
					if c == deny {
						err = dev.Deny(code)
					} else {
						err = dev.Approve(code)
					}
				}
				if err != nil {
					t.Errorf("consent on %s: %v", uri, err)
				}
			}()
			return nil
		},
	}, func(ev login.Event) {
		h.mu.Lock()
		h.events = append(h.events, ev)
		h.mu.Unlock()
		if q, ok := ev.(login.QRReady); ok {
			h.qr <- q
		}
	})
	go func() {
		defer close(h.done)
		h.res, h.err = h.g.Run(ctx)
	}()
	t.Cleanup(func() { <-h.done })
	return h
}

// firstQR returns the first QR code's bytes.
func (h *grantHarness) firstQR() []byte {
	h.t.Helper()
	select {
	case q := <-h.qr:
		return q.Payload
	case <-h.done:
		h.t.Fatalf("the grant ended before showing a QR code: %v", h.err)
	case <-time.After(eventTimeout):
		h.t.Fatal("no QR code")
	}
	return nil
}

// typeCode types the code as soon as the grant asks for it.
func (h *grantHarness) typeCode(code string) {
	h.t.Helper()
	deadline := time.After(eventTimeout)
	for !h.g.SubmitCheckCode(code) {
		select {
		case <-h.done:
			h.t.Fatalf("the grant ended before asking for the check code: %v", h.err)
		case <-deadline:
			h.t.Fatal("the grant never asked for the check code")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (h *grantHarness) wait() (*login.GrantResult, error) {
	h.t.Helper()
	select {
	case <-h.done:
	case <-time.After(eventTimeout):
		h.t.Fatal("the grant did not end")
	}
	return h.res, h.err
}

func (h *grantHarness) names() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, ev := range h.events {
		out = append(out, ev.Name())
	}
	return out
}

// scanWith starts the js-sdk new device on the grant's QR code, checks
// what it read there, and types the code it shows.
func scanWith(t *testing.T, dev *devserver.Server, h *grantHarness, opts newDevicePeerOptions) *newDevicePeer {
	t.Helper()
	qr := h.firstQR()
	want, err := qrcode.Decode(qr)
	if err != nil {
		t.Fatal(err)
	}
	peer := startNewDevicePeerWith(t, qr, opts)
	// The grant names the account's server by its bare server name, the
	// user ID's domain, as js-sdk's own existing device does.
	u, _ := url.Parse(dev.URL())
	if q := peer.QR(); q.Intent != int(qrcode.IntentExistingDevice) || q.ServerName != u.Host || q.RendezvousURL != want.RendezvousURL {
		t.Fatalf("peer read the QR code as %+v, want intent 1, server name %q, rendezvous %q", q, u.Host, want.RendezvousURL)
	}
	return peer
}

// TestJSSDKGrantSignsIn: qrlogin's grant signs js-sdk's new device in and
// shares the account's secrets, which arrive byte for byte.
func TestJSSDKGrantSignsIn(t *testing.T) {
	ctx := testContext(t)
	dev := startDevServer(t)
	h := startGrant(ctx, t, dev, true, approve)
	peer := scanWith(t, dev, h, newDevicePeerOptions{DeviceID: jsDeviceID})
	h.typeCode(peer.CheckCode())

	res := peer.WaitDone()
	if !res.OK || res.Stage != "done" || res.UserID != dev.UserID() || res.DeviceID != jsDeviceID {
		t.Fatalf("peer: %v", res)
	}
	got, err := h.wait()
	if err != nil || got.DeviceID != jsDeviceID || !got.SecretsSent {
		t.Fatalf("grant: %+v, %v", got, err)
	}
	want := []string{"qr", "check_code_needed", "secure_channel_established", "verification_uri", "device_signed_in", "secrets_shared"}
	if names := h.names(); !slices.Equal(names, want) {
		t.Errorf("events %v, want %v", names, want)
	}

	acct, err := dev.AccountSecrets()
	if err != nil {
		t.Fatal(err)
	}
	checkSecrets(t, res.Secrets, acct)
}

// TestJSSDKGrantWithoutSecrets: an account not verified on this computer
// sends no m.login.secrets. js-sdk's new device is signed in (it has its
// tokens and whoami answered) but ends with an error while it waits for
// secrets that never come: the grant deletes the rendezvous.
func TestJSSDKGrantWithoutSecrets(t *testing.T) {
	ctx := testContext(t)
	dev := startDevServer(t)
	h := startGrant(ctx, t, dev, false, approve)
	peer := scanWith(t, dev, h, newDevicePeerOptions{DeviceID: jsDeviceID})
	h.typeCode(peer.CheckCode())
	res := peer.WaitDone()
	if res.OK || res.Stage != "secrets" || res.UserID != dev.UserID() || res.ChannelFailure != "unknown" {
		t.Fatalf("peer: %v; want signed in, then stopped at secrets by the deleted rendezvous", res)
	}
	got, err := h.wait()
	if err != nil || got.SecretsSent {
		t.Fatalf("grant: %+v, %v", got, err)
	}
	if !slices.Contains(h.names(), "warning") {
		t.Errorf("events %v, want a warning", h.names())
	}
}

// TestJSSDKGrantDeviceAlreadyExists: js-sdk announcing a device ID that is
// on the account (the grant's own) hears device_already_exists while it
// waits for m.login.protocol_accepted.
func TestJSSDKGrantDeviceAlreadyExists(t *testing.T) {
	ctx := testContext(t)
	dev := startDevServer(t)
	h := startGrant(ctx, t, dev, true, approve)
	peer := scanWith(t, dev, h, newDevicePeerOptions{DeviceID: gDeviceID})
	h.typeCode(peer.CheckCode())
	res := peer.WaitDone()
	if res.OK || res.Stage != "token" || res.Reason != msc4108.ReasonDeviceAlreadyExists {
		t.Fatalf("peer: %v; want a failure at stage token with reason %s", res, msc4108.ReasonDeviceAlreadyExists)
	}
	if _, err := h.wait(); !errors.Is(err, login.ErrDeviceAlreadyExists) {
		t.Fatalf("grant: %v, want %v", err, login.ErrDeviceAlreadyExists)
	}
}

// TestJSSDKGrantDenied: a denial on the consent page reaches the grant as
// js-sdk reports it, m.login.failure user_cancelled (not m.login.declined).
func TestJSSDKGrantDenied(t *testing.T) {
	ctx := testContext(t)
	dev := startDevServer(t)
	h := startGrant(ctx, t, dev, true, deny)
	peer := scanWith(t, dev, h, newDevicePeerOptions{DeviceID: jsDeviceID})
	h.typeCode(peer.CheckCode())
	res := peer.WaitDone()
	if res.OK || res.Stage != "token" || res.Reason != msc4108.ReasonUserCancelled {
		t.Fatalf("peer: %v; want a failure at stage token with reason %s", res, msc4108.ReasonUserCancelled)
	}
	_, err := h.wait()
	var pf *login.PhoneFailure
	if !errors.As(err, &pf) || pf.Reason != msc4108.ReasonUserCancelled {
		t.Fatalf("grant: %v, want the new device's user_cancelled", err)
	}
	if slices.Contains(h.names(), "device_signed_in") {
		t.Fatalf("events %v", h.names())
	}
}

// TestJSSDKGrantWrongCheckCode: after a mistyped check code the grant sends
// nothing and deletes the rendezvous; js-sdk then stops at once (404,
// "unknown") instead of waiting for the session to expire.
func TestJSSDKGrantWrongCheckCode(t *testing.T) {
	ctx := testContext(t)
	dev := startDevServer(t)
	h := startGrant(ctx, t, dev, true, approve)
	peer := scanWith(t, dev, h, newDevicePeerOptions{DeviceID: jsDeviceID})
	code := peer.CheckCode()
	n, err := strconv.Atoi(code)
	if err != nil {
		t.Fatalf("check code %q: %v", code, err)
	}
	h.typeCode(fmt.Sprintf("%02d", (n+1)%100))
	if _, err := h.wait(); !errors.Is(err, securechannel.ErrCheckCodeMismatch) {
		t.Fatalf("grant: %v, want %v", err, securechannel.ErrCheckCodeMismatch)
	}
	res := peer.WaitDone()
	if res.OK || res.Stage != "token" || res.Reason != msc4108.ReasonUnexpectedMessageReceived || res.ChannelFailure != "unknown" {
		t.Fatalf("peer: %v; want a failure at stage token, reason %s, channel failure unknown", res, msc4108.ReasonUnexpectedMessageReceived)
	}
}
