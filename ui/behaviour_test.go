package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/qrlogin/qrlogin/app/accounts"
	"github.com/qrlogin/qrlogin/app/config"
	"github.com/qrlogin/qrlogin/app/explain"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
)

func TestEnterOnTheStartScreenSignsIn(t *testing.T) {
	h := newHarness(t)
	server := h.window.Canvas().Focused()
	if server == nil {
		t.Fatal("nothing focused on the start screen; want the server field")
	}
	test.Type(server, "x") // example.org → example.orgx
	h.key(fyne.KeyReturn)
	h.wantScreen("connecting")
	if !slices.Equal(h.started, []string{"example.orgx"}) {
		t.Fatalf("started %q", h.started)
	}
	if len(h.saved) != 1 || h.saved[0].LastHomeserver != "example.orgx" {
		t.Fatalf("the server typed was not remembered: saved %+v", h.saved)
	}
}

func TestStartScreenRemembersTheLastServer(t *testing.T) {
	h := newHarness(t, withSettings(config.Settings{LastHomeserver: "chat.example.net"}))
	e, ok := h.window.Canvas().Focused().(*widget.SelectEntry)
	if !ok || e.Text != "chat.example.net" {
		t.Fatalf("server field %#v, want the last server", h.window.Canvas().Focused())
	}
}

func TestStartScreenRejectsAnEmptyServerInline(t *testing.T) {
	h := newHarness(t, withSettings(config.Settings{}))
	h.key(fyne.KeyReturn)
	h.wantScreen("start")
	if len(h.started) != 0 {
		t.Fatal("a sign-in started with no server")
	}
	if !h.hasText("Type the name of your Matrix server first, for example matrix.org.") {
		t.Fatal("no inline explanation")
	}
}

func TestTryWithoutAPhoneOnlyWhenTheDemoIsThere(t *testing.T) {
	h := newHarness(t)
	for _, b := range widgets[*button](h) {
		if b.Text == "Try it without a phone" {
			t.Fatal("demo button shown with no demo")
		}
	}
	ran := 0
	h = newHarness(t, withDemo(func() { ran++ }))
	test.Tap(h.button("Try it without a phone"))
	if ran != 1 {
		t.Fatalf("demo ran %d times", ran)
	}
}

func TestStartScreenListsStoredAccounts(t *testing.T) {
	h := newHarness(t, withAccounts(alice, bob))
	for _, want := range []string{alice.UserID, "verified", bob.UserID, "not verified"} {
		if !h.hasText(want) {
			t.Errorf("start screen does not say %q", want)
		}
	}
}

func TestCancelButtonCancelsEverywhere(t *testing.T) {
	for _, to := range []struct {
		name string
		ev   login.Event
	}{
		{"connecting", nil},
		{"qr", login.QRReady{Payload: testPayload(1), ExpiresAt: testNow.Add(time.Minute)}},
		{"check-code", login.CheckCodeNeeded{}},
		{"approve", login.UserCode{UserCode: "AB", ExpiresAt: testNow.Add(time.Minute)}},
		{"encryption", login.LoggedIn{UserID: alice.UserID}},
	} {
		t.Run(to.name, func(t *testing.T) {
			h := newHarness(t)
			h.button("Sign in with QR code").OnTapped()
			if to.ev != nil {
				h.emit(to.ev)
			}
			h.wantScreen(to.name)
			test.Tap(h.button("Cancel"))
			if c := h.ctrl(); c.cancels != 1 {
				t.Fatalf("controller cancelled %d times", c.cancels)
			}
			h.wantScreen("start")
			// The cancelled sign-in's last events change nothing.
			h.emit(login.Failed{Err: login.ErrCancelled})
			h.wantScreen("start")
		})
	}
}

func TestEscapeCancelsFromTheQRScreenAndTheCheckCodeField(t *testing.T) {
	h := newHarness(t)
	h.signInToQR("")
	h.key(fyne.KeyEscape) // nothing focused: the canvas handles it
	h.wantScreen("start")
	if h.ctrl().cancels != 1 {
		t.Fatal("Escape on the QR screen did not cancel")
	}

	h.signInToQR("")
	h.emit(login.CheckCodeNeeded{})
	if _, ok := h.window.Canvas().Focused().(*entry); !ok {
		t.Fatal("check code field not focused")
	}
	h.key(fyne.KeyEscape) // the focused field forwards it
	h.wantScreen("start")
	if h.ctrl().cancels != 1 {
		t.Fatal("Escape in the check code field did not cancel")
	}
}

func TestEscapeGoesBackFromAccountsSettingsErrorAndDone(t *testing.T) {
	h := newHarness(t)
	for _, open := range []func(){
		h.app.ShowAccounts,
		h.app.ShowSettings,
		func() { h.signInToQR(""); h.emit(login.Failed{Err: errTest}) },
		func() { h.signInToQR(""); h.emit(login.Done{UserID: alice.UserID}) },
	} {
		open()
		h.key(fyne.KeyEscape)
		h.wantScreen("start")
	}
}

func TestClosingTheWindowCancelsAndWaitsForTheFlow(t *testing.T) {
	h := newHarness(t)
	h.signInToQR("")
	h.app.Shutdown()
	if c := h.ctrl(); c.cancels != 1 || c.waits != 1 {
		t.Fatalf("cancelled %d, waited %d times; want 1 and 1", c.cancels, c.waits)
	}
	if n := len(h.pendingTimers()); n != 0 {
		t.Fatalf("%d countdown timers still armed after closing", n)
	}
}

func TestCheckCodeDigitsOnlyAndEnterSubmits(t *testing.T) {
	h := newHarness(t)
	h.signInToQR("")
	h.emit(login.CheckCodeNeeded{})
	field := h.window.Canvas().Focused()
	test.Type(field, "7x")
	if !h.hasText(checkCodeInvalid()) {
		t.Fatal("a letter in the check code was not rejected inline")
	}
	h.key(fyne.KeyReturn)
	h.wantScreen("check-code")
	if len(h.ctrl().codes) != 0 {
		t.Fatalf("submitted %q", h.ctrl().codes)
	}

	field.(*entry).SetText("")
	test.Type(field, "123")
	h.key(fyne.KeyReturn)
	if len(h.ctrl().codes) != 0 {
		t.Fatalf("three digits submitted: %q", h.ctrl().codes)
	}

	field.(*entry).SetText("")
	test.Type(field, "7")
	if h.hasText(checkCodeInvalid()) {
		t.Fatal("one digit flagged as invalid")
	}
	h.key(fyne.KeyReturn)
	if got := h.ctrl().codes; !slices.Equal(got, []string{"7"}) {
		t.Fatalf("submitted %q, want [7]", got)
	}
	h.wantScreen("checking")
}

func TestCheckCodeMismatchExplainsAndStartsAgainInOneClick(t *testing.T) {
	h := newHarness(t)
	h.signInToQR("")
	h.emit(login.CheckCodeNeeded{})
	test.Type(h.window.Canvas().Focused(), "12")
	h.key(fyne.KeyReturn)
	err := fmt.Errorf("login: %w", securechannel.ErrCheckCodeMismatch)
	h.emit(login.Failed{Err: err})
	h.wantScreen("error")
	x := explain.Error(err)
	if !h.hasText(x.Message) || !h.hasText(x.Next) {
		t.Fatalf("error screen does not explain %+v", x)
	}
	h.key(fyne.KeyReturn) // "Start again" has the focus
	h.wantScreen("connecting")
	if !slices.Equal(h.started, []string{"example.org", "example.org"}) {
		t.Fatalf("started %q, want the same server twice", h.started)
	}
}

func TestErrorScreenBackAndDetails(t *testing.T) {
	h := newHarness(t)
	h.signInToQR("")
	h.emit(login.Failed{Err: errors.New("rendezvous: PUT 412 M_CONCURRENT_WRITE")})
	acc := widgets[*widget.Accordion](h)
	if len(acc) != 1 || acc[0].Items[0].Open {
		t.Fatal("details must start folded")
	}
	if d := acc[0].Items[0].Detail.(*widget.Label); !strings.Contains(d.Text, "M_CONCURRENT_WRITE") {
		t.Fatalf("details say %q", d.Text)
	}
	test.Tap(h.button("Back"))
	h.wantScreen("start")
}

func TestFreshQRCodeReplacesTheOldOneQuietly(t *testing.T) {
	h := newHarness(t)
	h.signInToQR("")
	if got := readQR(t, h.window.Canvas().Capture()); string(got) != string(testPayload(1)) {
		t.Fatalf("QR says %q", got)
	}
	screen := h.app.current
	h.emit(login.QRReady{Protocol: "msc4388", Payload: testPayload(2), ExpiresAt: testNow.Add(5 * time.Minute)})
	if h.app.current != screen {
		t.Fatal("a fresh code rebuilt the screen; want only the code replaced")
	}
	if got := readQR(t, h.window.Canvas().Capture()); string(got) != string(testPayload(2)) {
		t.Fatalf("after the fresh code the QR says %q", got)
	}
	if !h.hasText("This code expires in about 5 minutes. A new one appears by itself.") {
		t.Fatal("countdown not reset to the fresh code's expiry")
	}
}

func TestSwitchLinkOnlyWithAnAlternative(t *testing.T) {
	h := newHarness(t)
	h.signInToQR("")
	if h.hasText(SwitchLink) {
		t.Fatal("switch link shown with no alternative")
	}
	h.emit(login.QRReady{Payload: testPayload(2), ExpiresAt: testNow.Add(time.Minute), Alternative: "msc4108-2024"})
	links := widgets[*link](h)
	if len(links) != 1 || links[0].Text != SwitchLink {
		t.Fatalf("links %v, want the switch link", links)
	}
	test.TapAt(links[0], fyne.NewPos(8, links[0].Size().Height/2)) // on the words
	if h.ctrl().switches != 1 {
		t.Fatal("the link did not ask for the other generation")
	}
	h.emit(login.QRReady{Payload: testPayload(3), ExpiresAt: testNow.Add(time.Minute)})
	if h.hasText(SwitchLink) {
		t.Fatal("switch link still shown once the alternative is gone")
	}
}

func TestDescribeRemaining(t *testing.T) {
	for _, c := range []struct {
		left  time.Duration
		words string
		next  time.Duration
	}{
		{-time.Second, "0 seconds", 0},
		{0, "0 seconds", 0},
		{time.Millisecond, "1 second", time.Millisecond},
		{time.Second, "1 second", time.Second},
		{1500 * time.Millisecond, "2 seconds", 500 * time.Millisecond},
		{10 * time.Second, "10 seconds", time.Second},
		{10*time.Second + time.Millisecond, "15 seconds", time.Millisecond},
		{12 * time.Second, "15 seconds", 2 * time.Second},
		{59 * time.Second, "60 seconds", 4 * time.Second},
		{time.Minute, "60 seconds", 5 * time.Second},
		{61 * time.Second, "about 1 minute", time.Second},
		{90 * time.Second, "about 1 minute", 30 * time.Second},
		{91 * time.Second, "about 2 minutes", time.Second},
		{2*time.Minute + 30*time.Second, "about 2 minutes", time.Minute},
		{4*time.Minute + 59*time.Second, "about 5 minutes", 29 * time.Second},
		{5 * time.Minute, "about 5 minutes", 30 * time.Second},
		{61 * time.Minute, "about 61 minutes", 30 * time.Second},
	} {
		words, next := DescribeRemaining(c.left)
		if words != c.words || next != c.next {
			t.Errorf("DescribeRemaining(%v) = %q, %v; want %q, %v", c.left, words, next, c.words, c.next)
		}
		// The words hold until next, and change right after it.
		if next > 0 {
			if w := FormatRemaining(c.left - next + 1); w != words {
				t.Errorf("at %v the words are %q, want %q still", c.left-next+1, w, words)
			}
			if w := FormatRemaining(c.left - next); w == words {
				t.Errorf("at %v the words are still %q", c.left-next, w)
			}
		}
	}
}

// TestCountdownWakesOnlyWhenItsWordsChange runs a whole five-minute code
// down on the fake clock: the label changes each time its timer fires,
// never sooner, the timer is never armed for a whole second while minutes
// are left, and there are far fewer repaints than seconds
// (docs/design-notes.md "Idle cost").
func TestCountdownWakesOnlyWhenItsWordsChange(t *testing.T) {
	h := newHarness(t)
	h.signInToQR("")
	h.emit(login.QRReady{Payload: testPayload(2), ExpiresAt: testNow.Add(5 * time.Minute)})
	label := h.app.qr.countdown.label
	var texts []string
	texts = append(texts, label.Text)
	for len(h.pendingTimers()) > 0 {
		fired := h.fireTimer()
		if left := testNow.Add(5 * time.Minute).Sub(h.clock); left > time.Minute && fired.after < 30*time.Second {
			t.Fatalf("with %v left the countdown woke after only %v", left, fired.after)
		}
		if label.Text == texts[len(texts)-1] {
			t.Fatalf("the timer fired at %v but the words stayed %q", h.clock.Sub(testNow), label.Text)
		}
		texts = append(texts, label.Text)
	}
	if want := "This code expires in 0 seconds. A new one appears by itself."; label.Text != want {
		t.Fatalf("at the end the label says %q, want %q", label.Text, want)
	}
	// 5 minute texts, 10 five-second steps, 10 seconds, 0: 26 in 300 s.
	if len(texts) != 26 {
		t.Fatalf("%d different texts in five minutes, want 26: %q", len(texts), texts)
	}
}

func TestCountdownStopsWithItsScreenAndIgnoresALateTimer(t *testing.T) {
	h := newHarness(t)
	h.signInToQR("")
	pending := h.pendingTimers()
	if len(pending) != 1 {
		t.Fatalf("%d timers armed on the QR screen, want 1", len(pending))
	}
	h.emit(login.QRReady{Payload: testPayload(2), ExpiresAt: testNow.Add(3 * time.Minute)})
	if len(h.pendingTimers()) != 1 || !pending[0].stopped {
		t.Fatal("a fresh code left the old timer armed beside the new one")
	}
	label := h.app.qr.countdown.label
	h.emit(login.CheckCodeNeeded{})
	if n := len(h.pendingTimers()); n != 0 {
		t.Fatalf("%d timers still armed once the QR screen went away", n)
	}
	// A timer that fired just as it was replaced or stopped must not
	// touch the label.
	countdown := pending[0]
	h.clock = h.clock.Add(2 * time.Minute)
	words := label.Text
	countdown.fire()
	if label.Text != words {
		t.Fatalf("a stopped timer changed the countdown to %q", label.Text)
	}
	if n := len(h.pendingTimers()); n != 0 {
		t.Fatalf("a stopped timer armed %d more", n)
	}
}

func TestApproveShowsTheCodeToCopy(t *testing.T) {
	h := newHarness(t)
	h.signInToQR("")
	h.emit(login.UserCode{UserCode: "RKTT-2QXW", ExpiresAt: testNow.Add(90 * time.Second)})
	if !h.hasText("RKTT-2QXW") || !h.hasText("Time left to approve: about 1 minute") {
		t.Fatal("approve screen lacks the code or the countdown")
	}
	test.Tap(h.button("Copy"))
	if got := fyne.CurrentApp().Clipboard().Content(); got != "RKTT-2QXW" {
		t.Fatalf("clipboard %q", got)
	}
}

func TestDoneSaysWhoAndWhat(t *testing.T) {
	h := newHarness(t)
	h.signInToQR("")
	h.emit(login.Secrets{CrossSigning: true, Backup: false})
	h.emit(login.Done{UserID: alice.UserID, DeviceID: alice.DeviceID, Verified: false})
	h.wantScreen("done")
	for _, want := range []string{alice.UserID, alice.DeviceID} {
		if !h.hasText(want) {
			t.Errorf("done screen does not show %q", want)
		}
	}
	if h.app.ctrl != nil {
		t.Fatal("the finished sign-in is still held")
	}
}

func TestWarningsShowQuietlyAndClearOnTheNextSignIn(t *testing.T) {
	h := newHarness(t)
	h.signInToQR("")
	h.emit(login.Warning{Code: "w", Message: "Your server is slow."})
	h.wantScreen("qr")
	if !h.hasText("Your server is slow.") {
		t.Fatal("warning not shown")
	}
	test.Tap(h.button("Cancel"))
	h.signInToQR("")
	if h.hasText("Your server is slow.") {
		t.Fatal("an old warning is still shown")
	}
}

func TestAccountsCopyAndSignOut(t *testing.T) {
	h := newHarness(t, withAccounts(alice, bob))
	h.app.ShowAccounts()
	buttons := widgets[*button](h)
	var copies, signOuts []*button
	for _, b := range buttons {
		switch b.Text {
		case "Copy user ID":
			copies = append(copies, b)
		case "Sign out…":
			signOuts = append(signOuts, b)
		}
	}
	if len(copies) != 2 || len(signOuts) != 2 {
		t.Fatalf("%d copy and %d sign-out buttons, want 2 and 2", len(copies), len(signOuts))
	}
	test.Tap(copies[1])
	if got := fyne.CurrentApp().Clipboard().Content(); got != bob.UserID {
		t.Fatalf("clipboard %q", got)
	}

	// Sign out asks first; "Keep" or Escape keeps.
	test.Tap(signOuts[0])
	test.Tap(h.button("Keep"))
	test.Tap(signOuts[0])
	h.key(fyne.KeyEscape)
	h.wantScreen("accounts")
	if h.window.Canvas().Overlays().Top() != nil {
		t.Fatal("Escape left the dialog open")
	}
	if len(h.accounts.loggedOut) != 0 {
		t.Fatal("signed out without confirmation")
	}
	// A failure is explained and the account stays.
	h.accounts.logoutErr = errors.New("revoke: connection refused")
	test.Tap(signOuts[0])
	test.Tap(h.button("Sign out"))
	if !h.hasText(explain.Error(h.accounts.logoutErr).Message + " " + explain.Error(h.accounts.logoutErr).Next) {
		t.Fatal("sign-out failure not explained")
	}
	h.accounts.logoutErr = nil
	test.Tap(signOuts[0])
	test.Tap(h.button("Sign out"))
	if !slices.Equal(h.accounts.loggedOut, []string{alice.UserID}) {
		t.Fatalf("signed out %q", h.accounts.loggedOut)
	}
	if h.hasText(alice.UserID) || !h.hasText(bob.UserID) {
		t.Fatal("list not refreshed after signing out")
	}
}

// unreachableEndpoint is a revocation endpoint on 127.0.0.1 where nothing
// listens any more.
func unreachableEndpoint(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/revoke"
	srv.Close()
	return url
}

// signOutUnreachable signs alice out while the server cannot be reached.
func signOutUnreachable(h *harness) {
	h.t.Helper()
	h.accounts.revocationEndpoint = unreachableEndpoint(h.t)
	h.app.ShowAccounts()
	test.Tap(h.buttons("Sign out…")[0])
	test.Tap(h.button("Sign out"))
}

// TestAccountsRemoveAnywayWhenTheServerCannotBeReached: a sign-out that
// cannot reach the server keeps the account and offers to remove it from
// this computer only, behind a confirmation.
func TestAccountsRemoveAnywayWhenTheServerCannotBeReached(t *testing.T) {
	h := newHarness(t, withAccounts(alice, bob))
	signOutUnreachable(h)
	if len(h.accounts.loggedOut)+len(h.accounts.removedLocally) != 0 || !h.hasText(alice.UserID) {
		t.Fatal("the account went although the server could not be reached")
	}
	if !h.hasText(explain.Error(&url.Error{Op: "Post", Err: errTest}).Message + " " + removeAnywayHint) {
		t.Fatal("the failure is not explained with the offer to remove the account from this computer")
	}
	anyway := h.buttons(removeAnywayLabel)
	if len(anyway) != 1 {
		t.Fatalf("%d %q buttons, want one (on alice's row)", len(anyway), removeAnywayLabel)
	}
	// It asks first; Keep keeps.
	test.Tap(anyway[0])
	if !h.hasText(removeAnywayQuestion(alice)) {
		t.Fatal("no confirmation that names the account and the device left on the server")
	}
	test.Tap(h.button("Keep"))
	if len(h.accounts.removedLocally) != 0 {
		t.Fatal("removed without confirmation")
	}
	test.Tap(anyway[0])
	test.Tap(h.button("Remove"))
	if !slices.Equal(h.accounts.removedLocally, []string{alice.UserID}) || len(h.accounts.loggedOut) != 0 {
		t.Fatalf("removed locally %q, signed out %q", h.accounts.removedLocally, h.accounts.loggedOut)
	}
	if h.hasText(alice.UserID) || !h.hasText(bob.UserID) {
		t.Fatal("list not refreshed after removing the account")
	}
}

// TestAccountsOtherSignOutFailuresOfferNoLocalRemoval: a keyring failure is
// not the server's; removing "anyway" would not help.
func TestAccountsOtherSignOutFailuresOfferNoLocalRemoval(t *testing.T) {
	h := newHarness(t, withAccounts(alice, bob))
	h.accounts.logoutErr = &accounts.UnavailableError{Err: errTest}
	h.app.ShowAccounts()
	test.Tap(h.buttons("Sign out…")[0])
	test.Tap(h.button("Sign out"))
	if len(h.buttons(removeAnywayLabel)) != 0 {
		t.Fatal("offered to remove the account anyway after a keyring failure")
	}
}

func TestSettingsSave(t *testing.T) {
	h := newHarness(t)
	h.app.ShowSettings()
	radios := widgets[*picker](h)
	if len(radios) != 2 {
		t.Fatalf("%d choice groups", len(radios))
	}
	radios[0].SetSelected(labelOf(protocolChoices, config.Protocol2024))
	radios[1].SetSelected(labelOf(pollChoices, config.PollGentle))
	test.Type(h.window.Canvas().Focused(), "https://rv.example.org")
	h.key(fyne.KeyReturn)
	h.wantScreen("start")
	if len(h.saved) != 1 {
		t.Fatalf("saved %d times", len(h.saved))
	}
	s := h.saved[0]
	if s.Protocol != config.Protocol2024 || s.PollSpeed != config.PollGentle || s.RendezvousServer != "https://rv.example.org" || s.LastHomeserver != "example.org" {
		t.Fatalf("saved %+v", s)
	}
	// The next sign-in uses them.
	if h.app.settings != s {
		t.Fatal("settings not applied")
	}
}

func TestSettingsSaveFailureIsShown(t *testing.T) {
	h := newHarness(t)
	h.app.svc.SaveSettings = func(config.Settings) error { return errors.New("disk full") }
	h.app.ShowSettings()
	test.Tap(h.button("Save"))
	h.wantScreen("settings")
	if !h.hasText("The settings could not be saved: disk full") {
		t.Fatal("save failure not shown")
	}
}

// TestTabOrderFollowsTheScreen: Tab walks the start screen top to bottom,
// left to right.
func TestTabOrderFollowsTheScreen(t *testing.T) {
	h := newHarness(t, withDemo(func() {}))
	c := h.window.Canvas()
	var order []string
	for range 6 {
		switch f := c.Focused().(type) {
		case *widget.SelectEntry:
			order = append(order, "server")
		case *button:
			order = append(order, f.Text)
		case *widget.Button: // the server field's drop-down
			order = append(order, "server choices")
		default:
			order = append(order, fmt.Sprintf("%T", f))
		}
		test.FocusNext(c)
	}
	want := []string{"server", "server choices", "Sign in with QR code", "Try it without a phone", "Accounts", "Settings"}
	if !slices.Equal(order, want) {
		t.Fatalf("tab order %q, want %q", order, want)
	}
}

func TestServerFieldOffersTheAccountsServers(t *testing.T) {
	h := newHarness(t, withAccounts(alice, bob))
	got := serverChoices("example.org", []accounts.Meta{alice, bob, alice})
	want := []string{"example.org", alice.Homeserver, bob.Homeserver}
	if !slices.Equal(got, want) {
		t.Fatalf("choices %q, want %q", got, want)
	}
	field := h.window.Canvas().Focused().(*widget.SelectEntry)
	field.SetText(bob.Homeserver) // what choosing it from the list does
	h.key(fyne.KeyReturn)
	if !slices.Equal(h.started, []string{bob.Homeserver}) {
		t.Fatalf("started %q", h.started)
	}
}

// TestEscapeWorksWhereverTheFocusIs: the switch link and the settings'
// choices forward Escape too; a stock Hyperlink or RadioGroup swallowed it
// (docs/design-notes.md "Keyboard").
func TestEscapeWorksWhereverTheFocusIs(t *testing.T) {
	h := newHarness(t)
	h.signInToQR("msc4108-2024")
	links := widgets[*link](h)
	if len(links) != 1 {
		t.Fatalf("%d links on the QR screen", len(links))
	}
	h.window.Canvas().Focus(links[0])
	h.key(fyne.KeyEscape)
	h.wantScreen("start")
	if h.ctrl().cancels != 1 {
		t.Fatal("Escape on the focused link did not cancel the sign-in")
	}

	pickers := 0
	for i := 0; ; i++ {
		h.app.ShowSettings()
		ps := widgets[*picker](h)
		if i == len(ps) {
			pickers = len(ps)
			break
		}
		h.window.Canvas().Focus(ps[i])
		if h.window.Canvas().Focused() != ps[i] {
			t.Fatalf("choice %d did not take the focus", i)
		}
		h.key(fyne.KeyEscape)
		h.wantScreen("start")
	}
	if pickers != 2 {
		t.Fatalf("%d choices on the settings screen, want 2", pickers)
	}
}
