package ui

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/qrlogin/qrlogin/app/accounts"
	"github.com/qrlogin/qrlogin/app/config"
	"github.com/qrlogin/qrlogin/protocol/login"
)

// testNow is the fixed clock of every screen test, so countdowns and
// goldens do not depend on when the test runs.
var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// fakeController records what the screens asked of the sign-in.
type fakeController struct {
	mu       sync.Mutex
	codes    []string
	switches int
	cancels  int
	waits    int
}

func (f *fakeController) SubmitCheckCode(code string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.codes = append(f.codes, code)
	return true
}
func (f *fakeController) SwitchGeneration() { f.mu.Lock(); f.switches++; f.mu.Unlock() }
func (f *fakeController) Cancel()           { f.mu.Lock(); f.cancels++; f.mu.Unlock() }
func (f *fakeController) WaitTimeout(time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waits++
	return nil
}

// fakeAccounts is an in-memory account store.
type fakeAccounts struct {
	list      []accounts.Meta
	listErr   error
	logoutErr error
	// revocationEndpoint, when set, is every account's: signing out then
	// really calls it.
	revocationEndpoint string
	loggedOut          []string // revoked, then removed
	removedLocally     []string // removed without the server
}

func (f *fakeAccounts) List() ([]accounts.Meta, error) { return f.list, f.listErr }

// Remove stands in for the keyring store's (tested on the real keyring in
// app/accounts).
func (f *fakeAccounts) Remove(user string, revoke func(accounts.Meta, accounts.Secret, accounts.Secret) error) error {
	if f.logoutErr != nil {
		return f.logoutErr
	}
	if err := revoke(accounts.Meta{UserID: user, ClientID: "client", RevocationEndpoint: f.revocationEndpoint}, "mat_test", "mar_test"); err != nil {
		return err
	}
	f.loggedOut = append(f.loggedOut, user)
	f.forget(user)
	return nil
}

// Delete stands in for the keyring store's removal without the server.
func (f *fakeAccounts) Delete(user string) error {
	f.removedLocally = append(f.removedLocally, user)
	f.forget(user)
	return nil
}

func (f *fakeAccounts) forget(user string) {
	for i, m := range f.list {
		if m.UserID == user {
			f.list = append(f.list[:i], f.list[i+1:]...)
			break
		}
	}
}

// harness is one App in a test window with fakes behind it.
type harness struct {
	t        *testing.T
	app      *App
	window   fyne.Window
	accounts *fakeAccounts
	saved    []config.Settings
	started  []string // homeservers
	granted  []string // accounts that signed another device in
	openURI  func(string) error
	opened   []string // pages opened in the "browser"
	openErr  error    // what opening a page answers
	ctrls    []*fakeController
	emits    []func(login.Event)
	timers   []*fakeTimer // every countdown timer armed, in order
	clock    time.Time    // what the app's clock says; fireTimer moves it
	atStart  func(*App)   // an option's change to the app before its first screen
}

// fakeTimer is a countdown timer that fires only when a test says so.
type fakeTimer struct {
	after   time.Duration
	fire    func()
	stopped bool
}

// pendingTimers are the armed timers not yet stopped or fired.
func (h *harness) pendingTimers() []*fakeTimer {
	var pending []*fakeTimer
	for _, t := range h.timers {
		if !t.stopped {
			pending = append(pending, t)
		}
	}
	return pending
}

// fireTimer moves the clock on to the one pending timer and fires it, as
// the real timer would.
func (h *harness) fireTimer() *fakeTimer {
	h.t.Helper()
	pending := h.pendingTimers()
	if len(pending) != 1 {
		h.t.Fatalf("%d timers pending, want 1", len(pending))
	}
	t := pending[0]
	t.stopped = true
	h.clock = h.clock.Add(t.after)
	t.fire()
	return t
}

type harnessOption func(*harness, *Services)

func withAccounts(list ...accounts.Meta) harnessOption {
	return func(h *harness, _ *Services) { h.accounts.list = list }
}

func withDemo(f func()) harnessOption {
	return func(_ *harness, s *Services) { s.TryWithoutPhone = f }
}

func withTheme(th fyne.Theme) harnessOption {
	return func(*harness, *Services) { fyne.CurrentApp().Settings().SetTheme(th) }
}

func withSettings(cfg config.Settings) harnessOption {
	return func(_ *harness, s *Services) {
		s.LoadSettings = func() (config.Settings, error) { return cfg, nil }
	}
}

// newHarness opens the app in an 900×600 test window (the window's size in
// ui/desktop) on the test app's theme.
func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	test.NewTempApp(t) // a fresh app (theme, clipboard) for every harness
	h := &harness{t: t, accounts: &fakeAccounts{}}
	svc := Services{
		StartSignIn: func(_ context.Context, hs string, _ config.Settings, emit func(login.Event)) Controller {
			c := &fakeController{}
			h.started = append(h.started, hs)
			h.ctrls = append(h.ctrls, c)
			h.emits = append(h.emits, emit)
			return c
		},
		StartGrant: func(_ context.Context, userID string, _ config.Settings, openURI func(string) error, emit func(login.Event)) Controller {
			c := &fakeController{}
			h.granted = append(h.granted, userID)
			h.openURI = openURI
			h.ctrls = append(h.ctrls, c)
			h.emits = append(h.emits, emit)
			return c
		},
		OpenAccounts: func() (Accounts, error) { return h.accounts, nil },
		LoadSettings: func() (config.Settings, error) { return config.Settings{LastHomeserver: "example.org"}, nil },
		SaveSettings: func(s config.Settings) error { h.saved = append(h.saved, s); return nil },
	}
	for _, o := range opts {
		o(h, &svc)
	}
	w := test.NewTempWindow(t, nil)
	w.Resize(fyne.NewSize(900, 600))
	h.window = w
	h.app = newApp(w, svc, func(a *App) {
		h.clock = testNow
		a.now = func() time.Time { return h.clock }
		// Timers that fire only when a test says so (fireTimer).
		a.afterFunc = func(d time.Duration, f func()) func() {
			t := &fakeTimer{after: d, fire: f}
			h.timers = append(h.timers, t)
			return func() { t.stopped = true }
		}
		a.background = func(f func()) { f() }
		// Never a real browser: record the page.
		a.openURL = func(u *url.URL) error {
			h.opened = append(h.opened, u.String())
			return h.openErr
		}
		if h.atStart != nil {
			h.atStart(a)
		}
	})
	return h
}

// emit sends an event as the running sign-in's controller would.
func (h *harness) emit(ev login.Event) {
	h.t.Helper()
	if len(h.emits) == 0 {
		h.t.Fatal("no sign-in was started")
	}
	h.emits[len(h.emits)-1](ev)
}

func (h *harness) ctrl() *fakeController {
	h.t.Helper()
	if len(h.ctrls) == 0 {
		h.t.Fatal("no sign-in was started")
	}
	return h.ctrls[len(h.ctrls)-1]
}

func (h *harness) wantScreen(name string) {
	h.t.Helper()
	if got := h.app.Screen(); got != name {
		h.t.Fatalf("screen %q, want %q", got, name)
	}
}

// key presses a key as the driver does: to the focused widget if any, else
// to the canvas.
func (h *harness) key(name fyne.KeyName) {
	c := h.window.Canvas()
	if f := c.Focused(); f != nil {
		f.TypedKey(&fyne.KeyEvent{Name: name})
		return
	}
	if on := c.OnTypedKey(); on != nil {
		on(&fyne.KeyEvent{Name: name})
	}
}

// signInToQR starts a sign-in from the start screen and shows a QR code.
func (h *harness) signInToQR(alternative string) {
	h.t.Helper()
	h.button("Sign in with QR code").OnTapped()
	h.emit(login.QRReady{Protocol: "msc4388", Payload: testPayload(1), ExpiresAt: testNow.Add(4*time.Minute + 59*time.Second), Alternative: alternative})
	h.wantScreen("qr")
}

// testPayload is a deterministic stand-in for a QR payload, about the size
// of an MSC4388 one.
func testPayload(seed byte) []byte {
	p := []byte("IO_ELEMENT_MSC4388\x03\x00")
	for i := range 32 {
		p = append(p, seed+byte(i)*7)
	}
	p = append(p, []byte("\x00\x24e1f2c3d4-0000-4000-8000-123456789abc\x00\x18https://matrix.example.org")...)
	return p
}

// widgets finds every object of type T on the window.
func widgets[T fyne.CanvasObject](h *harness) []T {
	var out []T
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		if v, ok := o.(T); ok {
			out = append(out, v)
		}
		switch v := o.(type) {
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(v).Objects() {
				walk(c)
			}
		}
	}
	h.settle()
	walk(h.window.Content())
	for _, o := range h.window.Canvas().Overlays().List() {
		walk(o)
	}
	return out
}

// buttons finds every visible button labelled text, in screen order.
func (h *harness) buttons(text string) []*widget.Button {
	var out []*widget.Button
	for _, b := range widgets[*button](h) {
		if b.Text == text {
			out = append(out, &b.Button)
		}
	}
	for _, b := range widgets[*widget.Button](h) {
		if b.Text == text {
			out = append(out, b)
		}
	}
	return out
}

// button finds the visible button labelled text.
func (h *harness) button(text string) *widget.Button {
	h.t.Helper()
	for _, b := range widgets[*button](h) {
		if b.Text == text {
			return &b.Button
		}
	}
	for _, b := range widgets[*widget.Button](h) {
		if b.Text == text {
			return b
		}
	}
	h.t.Fatalf("no button %q on screen %q", text, h.app.Screen())
	return nil
}

// hasText reports whether a visible label or hyperlink says text.
func (h *harness) hasText(text string) bool {
	for _, l := range widgets[*widget.Label](h) {
		if l.Text == text {
			return true
		}
	}
	for _, l := range widgets[*link](h) {
		if l.Text == text {
			return true
		}
	}
	for _, c := range widgets[*bigCode](h) {
		if c.Text == text {
			return true
		}
	}
	return false
}

var errTest = errors.New("test failure")

// openDetails unfolds the error screen's technical details.
func (h *harness) openDetails() {
	h.t.Helper()
	acc := widgets[*widget.Accordion](h)
	if len(acc) != 1 {
		h.t.Fatalf("%d detail sections on screen %q", len(acc), h.app.Screen())
	}
	acc[0].Open(0)
}

// settle lays the window out again from the top, as the real driver does
// on every frame when a size changed (the test canvas does not: a widget
// shown after being hidden would keep a zero size).
func (h *harness) settle() {
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		switch v := o.(type) {
		case *fyne.Container:
			if v.Layout != nil {
				v.Layout.Layout(v.Objects, v.Size())
			}
			for _, c := range v.Objects {
				walk(c)
			}
		case fyne.Widget:
			r := test.WidgetRenderer(v)
			r.Layout(v.Size())
			for _, c := range r.Objects() {
				walk(c)
			}
		}
	}
	walk(h.window.Content())
}
