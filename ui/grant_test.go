package ui

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/qrlogin/qrlogin/app/explain"
	"github.com/qrlogin/qrlogin/app/signin"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/msc4108"
)

// The grant's screens are driven here by events from the harness's fake
// controller, like the sign-in's: the window's side of the contract is
// the events, and protocol/login's Grant.Run is not built on this branch
// (app/signin's tests run the controller with it).

// grantPage is a verification URI as MAS builds it.
const grantPage = "https://auth.example.org/link?code=RKTT-2QXW"

// grantFromAccounts opens the Accounts screen and presses the i-th
// account's "Sign in another device".
func (h *harness) grantFromAccounts(i int) {
	h.t.Helper()
	h.app.ShowAccounts()
	buttons := h.buttons(GrantButton)
	if len(buttons) <= i {
		h.t.Fatalf("%d %q buttons, want more than %d", len(buttons), GrantButton, i)
	}
	test.Tap(buttons[i])
	h.wantScreen("connecting")
}

// grantToQR signs another device in with alice up to the QR code.
func (h *harness) grantToQR() {
	h.t.Helper()
	h.grantFromAccounts(0)
	h.emit(login.QRReady{Protocol: "msc4388", Payload: testPayload(2), ExpiresAt: testNow.Add(4*time.Minute + 59*time.Second), Alternative: "msc4108-2024"})
	h.wantScreen("qr")
}

// labels is every visible label's text.
func (h *harness) labels() []string {
	var out []string
	for _, l := range widgets[*widget.Label](h) {
		out = append(out, l.Text)
	}
	for _, l := range widgets[*link](h) {
		out = append(out, l.Text)
	}
	return out
}

// wantNoPhone fails if the screen speaks of a phone: in a grant the other
// device is the new one, whatever it is.
func (h *harness) wantNoPhone() {
	h.t.Helper()
	for _, text := range h.labels() {
		if strings.Contains(strings.ToLower(text), "phone") {
			h.t.Errorf("screen %q says %q", h.app.Screen(), text)
		}
	}
}

func withoutGrant() harnessOption {
	return func(_ *harness, s *Services) { s.StartGrant = nil }
}

// TestAccountsOfferSigningInAnotherDevice: each account has the button,
// which starts a grant for that account; a build that cannot grant does
// not offer it.
func TestAccountsOfferSigningInAnotherDevice(t *testing.T) {
	h := newHarness(t, withAccounts(alice, bob))
	h.app.ShowAccounts()
	if n := len(h.buttons(GrantButton)); n != 2 {
		t.Fatalf("%d %q buttons for two accounts", n, GrantButton)
	}
	h.grantFromAccounts(1)
	if !slices.Equal(h.granted, []string{bob.UserID}) || len(h.started) != 0 {
		t.Fatalf("granted %q, started %q", h.granted, h.started)
	}
	if !h.hasText("Signing another device in to " + bob.UserID + ".") {
		t.Fatalf("the connecting screen does not name the account: %q", h.labels())
	}

	h = newHarness(t, withAccounts(alice), withoutGrant())
	h.app.ShowAccounts()
	if n := len(h.buttons(GrantButton)); n != 0 {
		t.Fatalf("%d %q buttons without StartGrant", n, GrantButton)
	}
	h.app.Grant(alice.UserID)
	h.wantScreen("error")
}

// TestGrantScreensSpeakOfTheNewDevice walks a whole grant: the QR code,
// the check code handed to the grant, the wait, the approval page, the
// new device signed in and done, each in the grant's words.
func TestGrantScreensSpeakOfTheNewDevice(t *testing.T) {
	h := newHarness(t, withAccounts(alice, bob))
	h.grantToQR()
	for _, want := range append([]string{GrantQRTitle, GrantQRWarning, GrantSwitchLink}, GrantQRSteps...) {
		if !h.hasText(want) {
			t.Errorf("QR screen lacks %q", want)
		}
	}
	h.wantNoPhone()
	l := widgets[*link](h)[0]
	test.TapAt(l, fyne.NewPos(8, l.Size().Height/2)) // on the words
	if h.ctrl().switches != 1 {
		t.Fatal("the switch link did not reach the grant")
	}

	h.emit(login.CheckCodeNeeded{})
	h.wantScreen("check-code")
	if !h.hasText(GrantCheckCodeTitle) || !h.hasText(GrantCheckCodeHelp) {
		t.Fatalf("check code screen says %q", h.labels())
	}
	h.wantNoPhone()
	test.Type(h.window.Canvas().Focused(), "4x")
	if !h.hasText(GrantCheckCodeInvalid()) {
		t.Fatal("a wrong character is not explained in the grant's words")
	}
	h.window.Canvas().Focused().(*entry).SetText("42")
	h.key(fyne.KeyReturn)
	if got := h.ctrl().codes; !slices.Equal(got, []string{"42"}) {
		t.Fatalf("the grant got codes %q", got)
	}
	h.wantScreen("checking")
	if !h.hasText("Making a secure connection to the new device…") {
		t.Fatalf("checking screen says %q", h.labels())
	}

	h.emit(login.SecureChannelEstablished{})
	h.wantScreen("waiting")
	if !h.hasText("Connected securely to the new device") {
		t.Fatalf("waiting screen says %q", h.labels())
	}
	h.wantNoPhone()

	h.emit(login.VerificationURI{URI: grantPage, Opened: true})
	h.wantScreen("approve")
	for _, want := range []string{GrantApproveTitle, GrantApproveOpened, GrantApproveAddress, grantPage} {
		if !h.hasText(want) {
			t.Errorf("approve screen lacks %q", want)
		}
	}
	h.wantNoPhone()

	h.emit(login.NewDeviceSignedIn{DeviceID: "KXQ4TV7ZNA"})
	h.wantScreen("encryption")
	h.emit(login.SecretsShared{CrossSigning: true, Backup: true})
	h.emit(signin.GrantDone{UserID: alice.UserID, DeviceID: "KXQ4TV7ZNA", SecretsSent: true})
	h.wantScreen("done")
	for _, want := range []string{"Signed in: KXQ4TV7ZNA", alice.UserID, "KXQ4TV7ZNA"} {
		if !h.hasText(want) {
			t.Errorf("done screen lacks %q", want)
		}
	}
	if !slices.ContainsFunc(h.labels(), func(s string) bool { return strings.HasPrefix(s, "Sent, with your key backup") }) {
		t.Errorf("done screen does not say the keys were sent: %q", h.labels())
	}
	h.wantNoPhone()
	if h.app.ctrl != nil {
		t.Fatal("the finished grant is still held")
	}
	h.key(fyne.KeyReturn)
	h.wantScreen("accounts")
}

// TestGrantDoneWithoutKeys: an account that is not verified here sends no
// keys; the warning has the error table's words and the done screen says
// how the new device gets verified.
func TestGrantDoneWithoutKeys(t *testing.T) {
	h := newHarness(t, withAccounts(alice, bob))
	h.grantToQR()
	h.emit(login.Warning{Code: explain.CodeSecretsNotShared, Message: "the flow's words"})
	want := explain.Warning(login.Warning{Code: explain.CodeSecretsNotShared}).Sentence()
	if !h.hasText(want) {
		t.Fatalf("the warning bar does not say %q: %q", want, h.labels())
	}
	h.emit(signin.GrantDone{UserID: alice.UserID, DeviceID: "KXQ4TV7ZNA"})
	if !slices.ContainsFunc(h.labels(), func(s string) bool { return strings.HasPrefix(s, "Not sent") }) {
		t.Fatalf("done screen says %q", h.labels())
	}
}

// TestGrantDoneWithDamagedKeys: when the keys stored here cannot be read,
// the done screen says so, not that the account is unverified.
func TestGrantDoneWithDamagedKeys(t *testing.T) {
	h := newHarness(t, withAccounts(alice, bob))
	h.grantToQR()
	h.emit(login.Warning{Code: signin.WarningStoredKeysDamaged, Message: "the controller's words"})
	h.emit(signin.GrantDone{UserID: alice.UserID, DeviceID: "KXQ4TV7ZNA", KeysNotSent: signin.WarningStoredKeysDamaged})
	i := slices.IndexFunc(h.labels(), func(s string) bool { return strings.HasPrefix(s, "Not sent") })
	if i < 0 {
		t.Fatalf("done screen says %q", h.labels())
	}
	if s := h.labels()[i]; strings.Contains(s, "not verified") || !strings.Contains(s, "cannot be read") {
		t.Fatalf("done screen says %q", s)
	}
}

// TestGrantOpensTheApprovalPageInTheBrowser: the grant opens the page with
// the window's browser opener (fyne's OpenURL); the approve screen opens
// it again on request, copies it, and says what to do when no browser
// opens.
func TestGrantOpensTheApprovalPageInTheBrowser(t *testing.T) {
	h := newHarness(t, withAccounts(alice, bob))
	h.grantToQR()
	if h.openURI == nil {
		t.Fatal("the grant was given no way to open the page")
	}
	if err := h.openURI(grantPage); err != nil || !slices.Equal(h.opened, []string{grantPage}) {
		t.Fatalf("openURI: %v, opened %q", err, h.opened)
	}
	h.openErr = errors.New("xdg-open: not found")
	if err := h.openURI(grantPage); err == nil {
		t.Fatal("a browser that cannot open reported success")
	}
	if err := h.openURI("::not a URL"); err == nil {
		t.Fatal("a malformed page address was opened")
	}

	h.emit(login.VerificationURI{URI: grantPage})
	if !h.hasText(GrantApproveNotOpened) || h.hasText(GrantApproveAddress) {
		t.Fatalf("a page that did not open: %q", h.labels())
	}
	test.Tap(h.button("Copy address"))
	if got := fyne.CurrentApp().Clipboard().Content(); got != grantPage {
		t.Fatalf("clipboard %q", got)
	}
	test.Tap(h.button("Open in browser"))
	if len(h.opened) != 3 {
		t.Fatalf("opened %q", h.opened)
	}
	if !slices.ContainsFunc(h.labels(), func(s string) bool { return strings.Contains(s, "Copy the address and open it in a browser yourself") }) {
		t.Fatalf("a browser that does not open is not explained: %q", h.labels())
	}
}

// TestGrantKeyboardAndWayBack: Escape cancels the grant and goes back to
// the Accounts screen, where it started; on the error screen Enter starts
// the same grant again and Escape goes back.
func TestGrantKeyboardAndWayBack(t *testing.T) {
	h := newHarness(t, withAccounts(alice, bob))
	h.grantToQR()
	h.key(fyne.KeyEscape)
	h.wantScreen("accounts")
	if h.ctrl().cancels != 1 {
		t.Fatal("Escape on the QR screen did not cancel the grant")
	}
	h.emit(login.Failed{Err: login.ErrCancelled}) // the cancelled grant's last event
	h.wantScreen("accounts")

	h.grantToQR()
	h.emit(login.CheckCodeNeeded{})
	h.key(fyne.KeyEscape) // the focused field forwards it
	h.wantScreen("accounts")

	h.grantToQR()
	h.emit(login.VerificationURI{URI: grantPage, Opened: true})
	test.Tap(h.button("Cancel"))
	h.wantScreen("accounts")

	h.grantToQR()
	h.emit(login.Failed{Err: &signin.GrantError{UserID: alice.UserID, Err: &login.PhoneFailure{Reason: msc4108.ReasonUserCancelled}}})
	h.wantScreen("error")
	if !h.hasText("The sign-in was cancelled on the new device.") {
		t.Fatalf("error screen says %q", h.labels())
	}
	h.key(fyne.KeyReturn)
	h.wantScreen("connecting")
	if n := len(h.granted); n != 5 || h.granted[4] != alice.UserID || len(h.started) != 0 {
		t.Fatalf("Start again granted %q, started %q", h.granted, h.started)
	}
	h.emit(login.Failed{Err: &signin.GrantError{UserID: alice.UserID, Err: errTest}})
	h.key(fyne.KeyEscape)
	h.wantScreen("accounts")

	// A sign-in after a grant speaks of the phone again and goes back to
	// the start screen.
	h.app.ShowStart()
	h.signInToQR("")
	if !h.hasText(QRTitle) {
		t.Fatalf("the sign-in's QR screen says %q", h.labels())
	}
	h.key(fyne.KeyEscape)
	h.wantScreen("start")
}

// TestNewGrantingStartsAtTheGrant: `qrlogin grant` opens the window
// already signing another device in with the account.
func TestNewGrantingStartsAtTheGrant(t *testing.T) {
	h := newHarness(t, withAccounts(alice), func(h *harness, _ *Services) {
		h.atStart = func(a *App) { a.grantAtStart = alice.UserID }
	})
	h.wantScreen("connecting")
	if !slices.Equal(h.granted, []string{alice.UserID}) {
		t.Fatalf("granted %q", h.granted)
	}
	h.emit(login.QRReady{Payload: testPayload(3), ExpiresAt: testNow.Add(time.Minute)})
	if !h.hasText(GrantQRTitle) {
		t.Fatal("not the grant's QR screen")
	}
}
