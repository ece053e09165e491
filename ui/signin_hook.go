package ui

import "fyne.io/fyne/v2"

// NewSigningIn is New that starts signing in to homeserver at once instead
// of showing the start screen: `qrlogin login --homeserver example.org`
// opens the window this way (ui/desktop.RunSignIn). Not building the start
// screen first saves CPU before the QR code shows (docs/build-notes.md
// "Benchmarks").
func NewSigningIn(w fyne.Window, svc Services, homeserver string) *App {
	return newApp(w, svc, func(a *App) { a.signInAtStart = homeserver })
}

// SignIn starts signing in to homeserver as if it had been typed on the
// start screen and submitted. A server name that cannot be one shows the
// start screen instead, which says what is wrong once submitted. It must be
// called on the UI goroutine.
func (a *App) SignIn(homeserver string) {
	if msg := checkHomeserver(homeserver); msg != "" {
		a.homeserver = homeserver
		a.ShowStart()
		return
	}
	a.startSignIn(homeserver)
}
