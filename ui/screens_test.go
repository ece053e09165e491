package ui

import (
	"fmt"
	"math"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/test"

	"github.com/qrlogin/qrlogin/app/accounts"
	"github.com/qrlogin/qrlogin/app/explain"
	"github.com/qrlogin/qrlogin/app/signin"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/msc4108"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
)

var (
	alice = accounts.Meta{UserID: "@alice:example.org", DeviceID: "QRLOGINABC", Homeserver: "https://matrix.example.org", Verified: true, Backup: true}
	bob   = accounts.Meta{UserID: "@bob:example.net", DeviceID: "QRLOGINXYZ", Homeserver: "https://example.net"}
)

// screenStates drives a harness to every screen and state. Each step's name
// is its golden file (testdata/<name>.xml) and, in `make screenshots`, its
// picture.
var screenStates = []struct {
	name string
	opts []harnessOption
	to   func(h *harness)
}{
	{"start", nil, func(*harness) {}},
	{"start-accounts-demo", []harnessOption{withAccounts(alice, bob), withDemo(func() {})}, func(*harness) {}},
	{"start-empty-server", nil, func(h *harness) {
		h.app.homeserver = ""
		h.app.ShowStart()
		h.key(fyne.KeyReturn)
	}},
	{"connecting", nil, func(h *harness) { h.button("Sign in with QR code").OnTapped() }},
	{"qr", nil, func(h *harness) { h.signInToQR("") }},
	{"qr-alternative", nil, func(h *harness) { h.signInToQR("msc4108-2024") }},
	{"check-code", nil, func(h *harness) {
		h.signInToQR("")
		h.emit(login.CheckCodeNeeded{})
	}},
	{"check-code-invalid", nil, func(h *harness) {
		h.signInToQR("")
		h.emit(login.CheckCodeNeeded{})
		test.Type(h.window.Canvas().Focused(), "4a")
	}},
	{"checking", nil, func(h *harness) {
		h.signInToQR("")
		h.emit(login.CheckCodeNeeded{})
		test.Type(h.window.Canvas().Focused(), "42")
		h.key(fyne.KeyReturn)
	}},
	{"waiting", nil, func(h *harness) {
		h.signInToQR("")
		h.emit(login.CheckCodeNeeded{})
		h.emit(login.SecureChannelEstablished{})
		h.emit(login.Homeserver{BaseURL: "https://matrix.example.org"})
	}},
	{"approve", nil, func(h *harness) {
		h.signInToQR("")
		h.emit(login.UserCode{UserCode: "RKTT-2QXW", VerificationURI: "https://auth.example.org/link", ExpiresAt: testNow.Add(2*time.Minute + 30*time.Second)})
	}},
	{"encryption", nil, func(h *harness) {
		h.signInToQR("")
		h.emit(login.LoggedIn{UserID: alice.UserID, DeviceID: alice.DeviceID})
	}},
	{"done", nil, func(h *harness) {
		h.signInToQR("")
		h.emit(login.LoggedIn{UserID: alice.UserID, DeviceID: alice.DeviceID})
		h.emit(login.Secrets{CrossSigning: true, Backup: true})
		h.emit(login.Done{UserID: alice.UserID, DeviceID: alice.DeviceID, Verified: true})
	}},
	{"done-unverified-warning", nil, func(h *harness) {
		h.signInToQR("")
		h.emit(login.LoggedIn{UserID: bob.UserID, DeviceID: bob.DeviceID})
		h.emit(login.Secrets{})
		h.emit(login.Warning{Code: "no_backup", Message: "Your phone did not share a key backup."})
		h.emit(login.Done{UserID: bob.UserID, DeviceID: bob.DeviceID})
	}},
	{"error-check-code", nil, func(h *harness) {
		h.signInToQR("")
		h.emit(login.Failed{Err: fmt.Errorf("login: %w", securechannel.ErrCheckCodeMismatch)})
	}},
	{"error-homeserver-mismatch", nil, func(h *harness) {
		h.signInToQR("")
		h.emit(login.Failed{Err: errMismatch})
	}},
	{"error-details", nil, func(h *harness) {
		h.signInToQR("")
		h.emit(login.Failed{Err: errTest})
		h.openDetails()
	}},
	{"accounts", []harnessOption{withAccounts(alice, bob)}, func(h *harness) { h.app.ShowAccounts() }},
	{"accounts-empty", nil, func(h *harness) { h.app.ShowAccounts() }},
	{"accounts-keyring-error", nil, func(h *harness) {
		h.accounts.listErr = &accounts.UnavailableError{Err: errTest}
		h.app.ShowAccounts()
	}},
	{"accounts-remove-anyway", []harnessOption{withAccounts(alice, bob)}, signOutUnreachable},
	{"settings", nil, func(h *harness) { h.app.ShowSettings() }},
	// Signing another device in (grant.go): the same screens in its words.
	{"grant-connecting", []harnessOption{withAccounts(alice, bob)}, func(h *harness) { h.grantFromAccounts(0) }},
	{"grant-qr", []harnessOption{withAccounts(alice, bob)}, func(h *harness) { h.grantToQR() }},
	{"grant-check-code", []harnessOption{withAccounts(alice, bob)}, func(h *harness) {
		h.grantToQR()
		h.emit(login.CheckCodeNeeded{})
	}},
	{"grant-waiting", []harnessOption{withAccounts(alice, bob)}, func(h *harness) {
		h.grantToQR()
		h.emit(login.CheckCodeNeeded{})
		h.emit(login.SecureChannelEstablished{})
	}},
	{"grant-approve", []harnessOption{withAccounts(alice, bob)}, func(h *harness) {
		h.grantToQR()
		h.emit(login.VerificationURI{URI: grantPage, Opened: true})
	}},
	{"grant-approve-not-opened", []harnessOption{withAccounts(alice, bob)}, func(h *harness) {
		h.grantToQR()
		h.emit(login.VerificationURI{URI: grantPage})
	}},
	{"grant-device-signed-in", []harnessOption{withAccounts(alice, bob)}, func(h *harness) {
		h.grantToQR()
		h.emit(login.NewDeviceSignedIn{DeviceID: "KXQ4TV7ZNA"})
	}},
	{"grant-done", []harnessOption{withAccounts(alice, bob)}, func(h *harness) {
		h.grantToQR()
		h.emit(login.NewDeviceSignedIn{DeviceID: "KXQ4TV7ZNA"})
		h.emit(login.SecretsShared{CrossSigning: true, Backup: true})
		h.emit(signin.GrantDone{UserID: alice.UserID, DeviceID: "KXQ4TV7ZNA", SecretsSent: true})
	}},
	{"grant-done-unverified", []harnessOption{withAccounts(alice, bob)}, func(h *harness) {
		h.grantFromAccounts(1)
		h.emit(login.QRReady{Protocol: "msc4388", Payload: testPayload(2), ExpiresAt: testNow.Add(4 * time.Minute)})
		h.emit(login.NewDeviceSignedIn{DeviceID: "KXQ4TV7ZNA"})
		h.emit(login.Warning{Code: explain.CodeSecretsNotShared, Message: "not verified"})
		h.emit(signin.GrantDone{UserID: bob.UserID, DeviceID: "KXQ4TV7ZNA"})
	}},
	{"grant-error", []harnessOption{withAccounts(alice, bob)}, func(h *harness) {
		h.grantToQR()
		h.emit(login.Failed{Err: &signin.GrantError{UserID: alice.UserID, Err: &login.PhoneFailure{Reason: msc4108.ReasonUserCancelled}}})
	}},
}

// TestEveryScreenRenders compares each screen's markup with its golden
// file (testdata/*.xml). A changed screen writes testdata/failed/<name>.xml
// to review and copy over.
func TestEveryScreenRenders(t *testing.T) {
	for _, s := range screenStates {
		t.Run(s.name, func(t *testing.T) {
			h := newHarness(t, s.opts...)
			s.to(h)
			h.settle()
			test.AssertRendersToMarkup(t, s.name+".xml", h.window.Canvas())
		})
	}
}

// TestEveryScreenFitsTheWindow: nothing needs more room than the window
// opens with (sizes are in scale-independent units, so this holds at 200%
// too, where Fyne doubles the pixels).
func TestEveryScreenFitsTheWindow(t *testing.T) {
	for _, s := range screenStates {
		t.Run(s.name, func(t *testing.T) {
			h := newHarness(t, s.opts...)
			s.to(h)
			min, size := h.window.Content().MinSize(), h.window.Canvas().Size()
			if min.Width > size.Width || min.Height > size.Height {
				t.Fatalf("screen needs %v, the window is %v", min, size)
			}
		})
	}
}

// TestShortScreensSitInTheMiddle: the check code, approve and error
// screens centre their few lines vertically instead of leaving them at the
// top of an empty window (docs/design-notes.md "Legibility and layout"):
// equal, non-zero room above and below.
func TestShortScreensSitInTheMiddle(t *testing.T) {
	for _, name := range []string{"check-code", "approve", "error-check-code", "grant-check-code", "grant-approve", "grant-error"} {
		t.Run(name, func(t *testing.T) {
			for _, s := range screenStates {
				if s.name == name {
					h := newHarness(t, s.opts...)
					s.to(h)
					assertInTheMiddle(t, h)
				}
			}
		})
	}
}

func assertInTheMiddle(t *testing.T, h *harness) {
	t.Helper()
	h.settle()
	var found bool
	for _, c := range widgets[*fyne.Container](h) {
		if len(c.Objects) != 3 {
			continue
		}
		above, ok1 := c.Objects[0].(*layout.Spacer)
		below, ok2 := c.Objects[2].(*layout.Spacer)
		if !ok1 || !ok2 {
			continue
		}
		found = true
		if above.Size().Height < 40 || math.Abs(float64(above.Size().Height-below.Size().Height)) > 1 {
			t.Fatalf("room above %v, below %v; want equal and more than a little", above.Size().Height, below.Size().Height)
		}
	}
	if !found {
		t.Fatal("the screen's body is not centred")
	}
}
