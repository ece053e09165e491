//go:build !race

package demo

// Left out of -race runs for the reason journey_test.go gives: the phone
// updates its screen from its own goroutines through fyne.Do.

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/qrlogin/qrlogin/app/signin"
	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/oauth"
)

// TestPhonePlaysTheNewDevice: a grant's QR code makes the phone the new
// device; scanning shows the check code, then the code for the approval
// page, then done. The new device itself is a stand-in (runNewDevice's
// hooks): internal/phone's scripted new device is not on this branch.
func TestPhonePlaysTheNewDevice(t *testing.T) {
	s := startSession(t)
	p := s.Phone
	changed := make(chan struct{}, 64)
	p.changed = func() { changed <- struct{}{} }
	finish := make(chan struct{})
	var scanned []byte
	old := runNewDevice
	runNewDevice = func(ctx context.Context, _ *devserver.Server, qr []byte, hooks newDeviceHooks) error {
		scanned = qr
		hooks.checkCode("42")
		hooks.userCode("RKTT-2QXW")
		select {
		case <-finish:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	t.Cleanup(func() { runNewDevice = old })

	p.GrantEvent(login.QRReady{Payload: []byte("grant code")})
	if !p.CanScan() || p.Status() != PhoneGrantCodeReady || !strings.Contains(p.account.Text, "new device") {
		t.Fatalf("after the grant's QR code: scan %v, status %q, account %q", p.CanScan(), p.Status(), p.account.Text)
	}
	p.Scan()
	waitFor(t, changed, func() bool { return p.Status() == PhoneGrantWaiting })
	if string(scanned) != "grant code" || !strings.Contains(p.userCode.Text, "RKTT-2QXW") {
		t.Fatalf("scanned %q, shows %q", scanned, p.userCode.Text)
	}
	close(finish)
	waitFor(t, changed, func() bool { return !p.running })
	if p.Status() != PhoneGrantDone {
		t.Fatalf("status %q, want %q", p.Status(), PhoneGrantDone)
	}
	p.GrantEvent(signin.GrantDone{})
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
