// Package ui is qrlogin's window content: the start screen, the sign-in
// screens (QR code, check code, approve, setting up encryption, done, error)
// and the Accounts and Settings screens.
//
// The screens are views only. A sign-in runs in app/signin's controller on
// its own goroutine; its login events are applied here with fyne.Do (the
// fyneDo migration in FyneApp.toml), one screen per stage, and the only way
// back is the small Controller interface. Tests feed events straight to the
// App through a fake Controller, so no server is needed to drive a screen.
//
// The package does not import fyne.io/fyne/v2/app, so its tests run on
// Fyne's test driver with no cgo and no display.
package ui

import (
	"context"
	"net/url"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"

	"github.com/qrlogin/qrlogin/app/accounts"
	"github.com/qrlogin/qrlogin/app/config"
	"github.com/qrlogin/qrlogin/app/explain"
	"github.com/qrlogin/qrlogin/app/signin"
	"github.com/qrlogin/qrlogin/protocol/login"
)

// Controller is what the screens need of a running sign-in;
// *signin.Controller satisfies it.
type Controller interface {
	SubmitCheckCode(code string) bool
	SwitchGeneration()
	Cancel()
	WaitTimeout(d time.Duration) error
}

// Accounts is the account store as the Accounts screen uses it: listing,
// removing under the store's lock once the session is revoked
// (signin.Logout), and removing from this computer only when the server
// cannot do its part (signin.RemoveLocally).
type Accounts interface {
	List() ([]accounts.Meta, error)
	signin.AccountRemover
}

// Services connects the screens to the rest of the app. DefaultServices
// gives the real ones; tests and the demo replace some.
type Services struct {
	// StartSignIn begins a sign-in to homeserver with the given settings.
	// emit may be called from any goroutine and must end with exactly one
	// login.Done or login.Failed.
	StartSignIn func(ctx context.Context, homeserver string, s config.Settings, emit func(login.Event)) Controller
	// OpenAccounts opens the account store (the OS keyring).
	OpenAccounts func() (Accounts, error)
	LoadSettings func() (config.Settings, error)
	SaveSettings func(config.Settings) error
	// TryWithoutPhone runs the demo; the start screen offers it only when
	// it is set.
	TryWithoutPhone func()
	// StartGrant begins signing another device in with the stored account
	// userID (the Accounts screen offers it only when it is set). openURI
	// opens the page where the new device is approved. emit may be called
	// from any goroutine and must end with exactly one signin.GrantDone or
	// login.Failed.
	StartGrant func(ctx context.Context, userID string, s config.Settings, openURI func(string) error, emit func(login.Event)) Controller
}

// closeWait bounds how long closing the window waits for a cancelled
// sign-in to tell the phone and delete its session.
const closeWait = 3 * time.Second

// App is the window's content: one screen at a time.
type App struct {
	window fyne.Window
	svc    Services

	settings   config.Settings
	store      accountStore
	homeserver string // what the user last asked to sign in to

	// The running sign-in or grant, if any. attempt numbers them so that
	// events of a cancelled one, still arriving, are dropped.
	ctrl    Controller
	attempt int
	cancel  context.CancelFunc
	state   signInState
	// words are the screens' words for a sign-in or a grant (words.go),
	// home where Cancel and Back go, restart what Start again does.
	words   *words
	home    func()
	restart func()

	current  *view
	qr       *qrScreen // the QR screen while it shows, for fresh codes
	warnings *warningBar
	root     *fyne.Container

	// Seams for tests: the clock, the countdown's timer and where slow
	// work (keyring, network) runs.
	now        func() time.Time
	afterFunc  func(d time.Duration, f func()) (stop func())
	background func(func())
	// openURL opens a page in the system browser: fyne's App.OpenURL.
	openURL func(*url.URL) error

	// signInAtStart, when set, replaces the start screen with a sign-in
	// to it (NewSigningIn, signin_hook.go); grantAtStart with a grant for
	// that account (NewGranting).
	signInAtStart string
	grantAtStart  string
}

// signInState is what the events of the running sign-in have said so far,
// for the Done screen.
type signInState struct {
	homeserver   string
	userID       string
	deviceID     string
	crossSigning bool
	backup       bool
	secretsKnown bool
	// For a grant: the new device signed in (deviceID holds its ID).
	newDeviceSignedIn bool
}

// view is one screen: its content, where the focus goes, and what Enter
// and Escape do there.
type view struct {
	name     string
	content  fyne.CanvasObject
	focus    fyne.Focusable
	onEnter  func()
	onEscape func()
	stop     func() // stops the screen's timer or animation
}

// New builds the content of w, shows the start screen, and takes over the
// window's close button so that closing cancels a running sign-in.
func New(w fyne.Window, svc Services) *App { return newApp(w, svc, nil) }

// newApp is New with a hook to replace the seams before the first screen.
func newApp(w fyne.Window, svc Services, configure func(*App)) *App {
	a := &App{
		window:     w,
		svc:        svc,
		now:        time.Now,
		afterFunc:  realAfterFunc,
		background: func(f func()) { go f() },
		openURL:    func(u *url.URL) error { return fyne.CurrentApp().OpenURL(u) },
		words:      &signInWords,
	}
	a.home, a.restart = a.ShowStart, a.ShowStart
	if configure != nil {
		configure(a)
	}
	a.warnings = newWarningBar()
	a.root = container.NewBorder(nil, a.warnings.object(), nil, nil)
	w.SetContent(a.root)
	w.Canvas().SetOnTypedKey(a.typedKey)
	w.SetCloseIntercept(func() {
		a.Shutdown()
		w.Close()
	})
	a.loadSettings()
	switch {
	case a.signInAtStart != "":
		a.SignIn(a.signInAtStart) // signin_hook.go
	case a.grantAtStart != "":
		a.Grant(a.grantAtStart) // grant.go
	default:
		a.ShowStart()
	}
	return a
}

// realAfterFunc runs f on its own goroutine after d unless stopped first.
func realAfterFunc(d time.Duration, f func()) (stop func()) {
	t := time.AfterFunc(d, f)
	return func() { t.Stop() }
}

func (a *App) loadSettings() {
	if a.svc.LoadSettings == nil {
		a.settings = config.Settings{}.Defaults()
		return
	}
	s, err := a.svc.LoadSettings()
	if err != nil {
		fyne.LogError("loading the settings (using the defaults)", err)
	}
	a.settings = s.Defaults()
	a.homeserver = a.settings.LastHomeserver
}

// Screen names the screen showing, for tests and the end-to-end harness:
// start, connecting, qr, check-code, checking, approve, encryption, done,
// error, accounts, settings.
func (a *App) Screen() string {
	if a.current == nil {
		return ""
	}
	return a.current.name
}

// show replaces the screen, stopping the old one's timer, and focuses the
// new one's first field.
func (a *App) show(v *view) {
	if a.current != nil && a.current.stop != nil {
		a.current.stop()
	}
	a.current = v
	// The border layout keeps the warning bar at the bottom; the screen
	// fills the rest.
	a.root.Objects = []fyne.CanvasObject{container.NewPadded(v.content), a.warnings.object()}
	a.root.Refresh()
	c := a.window.Canvas()
	c.Unfocus()
	if v.focus != nil {
		c.Focus(v.focus)
	}
}

// typedKey handles Enter and Escape when no field has the focus; focused
// fields forward them (keys.go).
func (a *App) typedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyEscape:
		a.escape()
	case fyne.KeyReturn, fyne.KeyEnter:
		if a.current != nil && a.current.onEnter != nil {
			a.current.onEnter()
		}
	}
}

func (a *App) escape() {
	// A dialog (Sign out?) is dismissed first, as its Keep button would.
	if top := a.window.Canvas().Overlays().Top(); top != nil {
		a.window.Canvas().Overlays().Remove(top)
		return
	}
	if a.current != nil && a.current.onEscape != nil {
		a.current.onEscape()
	}
}

// startSignIn begins a sign-in to homeserver and shows "connecting" until
// the first QR code arrives.
func (a *App) startSignIn(homeserver string) {
	homeserver = strings.TrimSpace(homeserver)
	a.cancelSignIn()
	a.homeserver = homeserver
	if a.settings.LastHomeserver != homeserver && a.svc.SaveSettings != nil {
		a.settings.LastHomeserver = homeserver
		s := a.settings
		a.background(func() {
			if err := a.svc.SaveSettings(s); err != nil {
				fyne.LogError("saving the last homeserver", err)
			}
		})
	}
	ctx, emit := a.begin(signInState{homeserver: homeserver}, &signInWords, a.ShowStart, func() { a.startSignIn(homeserver) })
	a.showProgress("connecting", "Connecting to "+homeserver+"…", "Getting a sign-in code from your server.")
	a.ctrl = a.svc.StartSignIn(ctx, homeserver, a.settings, emit)
}

// begin sets up a new sign-in or grant after the previous one was
// cancelled: its state, words, where Cancel goes and what Start again
// does; it returns the context and the emit function to start it with.
func (a *App) begin(state signInState, w *words, home, restart func()) (context.Context, func(login.Event)) {
	a.attempt++
	a.state = state
	a.words, a.home, a.restart = w, home, restart
	a.warnings.clear()
	attempt := a.attempt
	emit := func(ev login.Event) {
		fyne.Do(func() { a.apply(attempt, ev) })
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	return ctx, emit
}

// cancelSignIn stops the running sign-in, if any; its remaining events are
// ignored. The controller tells the phone in the background.
func (a *App) cancelSignIn() {
	if a.ctrl != nil {
		a.ctrl.Cancel()
	}
	if a.cancel != nil {
		a.cancel()
	}
	a.ctrl, a.cancel = nil, nil
	a.attempt++
}

// CancelSignIn is the Cancel button: stop the sign-in and go back to the
// start screen (from a grant: to the Accounts screen).
func (a *App) CancelSignIn() {
	a.cancelSignIn()
	a.home()
}

// Shutdown cancels a running sign-in and waits briefly so the phone is
// told; the window calls it when closing.
func (a *App) Shutdown() {
	if a.current != nil && a.current.stop != nil {
		a.current.stop()
	}
	ctrl := a.ctrl
	a.cancelSignIn()
	if ctrl != nil {
		if err := ctrl.WaitTimeout(closeWait); err != nil {
			fyne.LogError("closing the window", err)
		}
	}
}

func (a *App) apply(attempt int, ev login.Event) {
	if attempt != a.attempt || a.ctrl == nil {
		return // from a sign-in that was cancelled or has ended
	}
	switch e := ev.(type) {
	case login.QRReady:
		if a.current != nil && a.current.name == "qr" {
			a.qr.replace(e) // a fresh code after an expiry, or the other generation
			return
		}
		a.showQR(e)
	case login.CheckCodeNeeded:
		a.showCheckCode()
	case login.SecureChannelEstablished:
		a.showProgress("waiting", a.words.connected, a.words.waiting)
	case login.Homeserver:
		a.state.homeserver = e.BaseURL
		if a.current != nil && a.current.name == "waiting" {
			a.showProgress("waiting", "Connected securely to your phone", "Signing in to "+e.BaseURL+"…")
		}
	case login.UserCode:
		a.showApprove(e)
	case login.LoggedIn:
		a.state.userID, a.state.deviceID = e.UserID, e.DeviceID
		a.showProgress("encryption", "Setting up encryption", "Signed in as "+e.UserID+". Getting your encryption keys from your phone…")
	case login.Secrets:
		a.state.crossSigning, a.state.backup, a.state.secretsKnown = e.CrossSigning, e.Backup, true
	case login.Warning:
		a.warnings.add(explain.Warning(e).Sentence())
	case login.Done:
		a.ctrl, a.cancel = nil, nil
		a.state.userID, a.state.deviceID = e.UserID, e.DeviceID
		a.showDone(e)
	case login.Failed:
		a.ctrl, a.cancel = nil, nil
		a.showFailure(e.Err)
	case login.VerificationURI:
		a.showGrantApprove(e)
	case login.NewDeviceSignedIn:
		a.state.deviceID, a.state.newDeviceSignedIn = e.DeviceID, true
		a.showProgress("encryption", "The new device is signed in", "Device "+e.DeviceID+" is on your account now. Finishing…")
	case login.SecretsShared:
		a.state.crossSigning, a.state.backup, a.state.secretsKnown = e.CrossSigning, e.Backup, true
	case signin.GrantDone:
		a.ctrl, a.cancel = nil, nil
		a.showGrantDone(e)
	}
}
