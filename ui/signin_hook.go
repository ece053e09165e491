package ui

// SignIn starts signing in to homeserver as if it had been typed on the
// start screen and submitted: `qrlogin login --homeserver X` opens the
// window this way (ui/desktop.RunSignIn). It must be called on the UI
// goroutine.
func (a *App) SignIn(homeserver string) {
	if msg := checkHomeserver(homeserver); msg != "" {
		return // the start screen stays, and says what is wrong once submitted
	}
	a.startSignIn(homeserver)
}
