//go:build !race

package demo

// Left out of -race runs for the reason journey_test.go gives: the phone
// updates its screen from its own goroutines through fyne.Do.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/qrlogin/qrlogin/app/signin"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/oauth"
)

// signInDemoAccount signs the demo account in the way a newcomer does
// first: the desktop's sign-in, the phone scanning, the check code typed,
// Approve on the phone.
func signInDemoAccount(t *testing.T, s *Session, changed <-chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), journeyTimeout)
	defer cancel()
	events := make(chan login.Event, 64)
	ctrl := s.Services().StartSignIn(ctx, s.Server.URL(), s.Settings(), func(ev login.Event) { events <- ev })
	waitEvent[login.QRReady](t, events)
	waitFor(t, changed, s.Phone.CanScan)
	s.Phone.Scan()
	waitFor(t, changed, func() bool { return s.Phone.CheckCode() != "" })
	waitEvent[login.CheckCodeNeeded](t, events)
	if !ctrl.SubmitCheckCode(s.Phone.CheckCode()) {
		t.Fatal("the sign-in did not take the check code")
	}
	waitFor(t, changed, s.Phone.CanDecide)
	test.Tap(s.Phone.approve)
	waitEvent[login.Done](t, events)
	waitFor(t, changed, func() bool { return s.Phone.Status() == PhoneDone })
}

// TestPhonePlaysTheNewDevice: a grant's QR code makes the phone the new
// device (internal/phone's scripted new device): scanning shows the check
// code, typed into the grant, then the code for the approval page; the
// phone's pretend browser approves, the new device is signed in to the
// demo account with its keys, and the phone says done.
func TestPhonePlaysTheNewDevice(t *testing.T) {
	s := startSession(t)
	p := s.Phone
	changed := make(chan struct{}, 64)
	p.changed = func() {
		select {
		case changed <- struct{}{}:
		default: // waitFor re-checks on its own too
		}
	}
	signInDemoAccount(t, s, changed)

	ctx, cancel := context.WithTimeout(context.Background(), journeyTimeout)
	defer cancel()
	events := make(chan login.Event, 64)
	ctrl := s.Services().StartGrant(ctx, s.Server.UserID(), s.Settings(), nil, func(ev login.Event) { events <- ev })
	waitEvent[login.QRReady](t, events)
	waitFor(t, changed, p.CanScan)
	if p.Status() != PhoneGrantCodeReady || !strings.Contains(p.account.Text, "new device") {
		t.Fatalf("after the grant's QR code: status %q, account %q", p.Status(), p.account.Text)
	}
	p.Scan()
	waitFor(t, changed, func() bool { return p.CheckCode() != "" })
	waitEvent[login.CheckCodeNeeded](t, events)
	if !ctrl.SubmitCheckCode(p.CheckCode()) {
		t.Fatal("the grant did not take the check code")
	}
	uri := waitEvent[login.VerificationURI](t, events)
	if !uri.Opened || uri.URI != s.Server.ConsentURL() {
		t.Fatalf("verification_uri %+v, want the demo server's consent page opened in the phone", uri)
	}
	waitFor(t, changed, p.CanDecide)
	pending := s.Server.PendingUserCodes()
	if p.Status() != fmt.Sprintf(PhoneBrowserConsent, s.Server.UserID()) || len(pending) != 1 ||
		!strings.Contains(p.userCode.Text, pending[0]) {
		t.Fatalf("the phone shows %q and %q; pending user codes %v", p.Status(), p.userCode.Text, pending)
	}
	test.Tap(p.approve)
	signedIn := waitEvent[login.NewDeviceSignedIn](t, events)
	if shared := waitEvent[login.SecretsShared](t, events); !shared.CrossSigning || !shared.Backup {
		t.Errorf("secrets_shared %+v", shared)
	}
	done := waitEvent[signin.GrantDone](t, events)
	if done.DeviceID != signedIn.DeviceID || !done.SecretsSent || done.UserID != s.Server.UserID() {
		t.Fatalf("done %+v after device_signed_in %+v", done, signedIn)
	}
	if _, ok := s.Server.Device(done.DeviceID); !ok {
		t.Fatalf("device %s is not on the demo account", done.DeviceID)
	}
	waitFor(t, changed, func() bool { return !p.running })
	if p.Status() != PhoneGrantDone {
		t.Fatalf("status %q, want %q", p.Status(), PhoneGrantDone)
	}

	p.DesktopEvent(login.QRReady{Payload: []byte("sign-in code")})
	if p.Status() != PhoneCodeReady || p.grant {
		t.Fatalf("a sign-in's code after a grant: status %q, grant %v", p.Status(), p.grant)
	}
}

// TestPretendBrowserApprovesTheNewDevice: the page a grant opens shows in
// the phone window; Approve there approves the pending device
// authorization on the demo server, whose token endpoint then issues
// tokens to the new device.
func TestPretendBrowserApprovesTheNewDevice(t *testing.T) {
	s := startSession(t)
	p := s.Phone
	changed := make(chan struct{}, 64)
	p.changed = func() { changed <- struct{}{} }
	ctx, cancel := context.WithTimeout(context.Background(), journeyTimeout)
	defer cancel()
	hc := &http.Client{Timeout: 10 * time.Second}
	md, err := oauth.Discover(ctx, hc, s.Server.URL())
	if err != nil {
		t.Fatal(err)
	}
	clientID, err := oauth.Register(ctx, hc, md)
	if err != nil {
		t.Fatal(err)
	}
	scopes, err := oauth.Scopes(oauth.NewDeviceID(), false)
	if err != nil {
		t.Fatal(err)
	}
	c := &oauth.Client{HTTP: hc, Metadata: md, ClientID: clientID}
	da, err := c.StartDeviceAuthorization(ctx, scopes)
	if err != nil {
		t.Fatal(err)
	}

	if err := p.OpenApprovalPage(da.VerificationURI); err != nil {
		t.Fatal(err)
	}
	waitFor(t, changed, p.CanDecide)
	if !strings.Contains(p.Status(), "Pretend browser") || !strings.Contains(p.Status(), s.Server.UserID()) {
		t.Fatalf("status %q", p.Status())
	}
	test.Tap(p.approve)
	if p.Status() != PhoneGrantApproved {
		t.Fatalf("status after Approve %q", p.Status())
	}
	tok, err := c.PollToken(ctx, da)
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("the new device got no token after the approval: %v", err)
	}
	if err := p.OpenApprovalPage(""); err == nil {
		t.Fatal("an empty page address opened")
	}
}
