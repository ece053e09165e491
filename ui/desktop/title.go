package desktop

import (
	"context"

	"fyne.io/fyne/v2"

	"github.com/qrlogin/qrlogin/app/config"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/ui"
)

// SignedInSuffix ends the window title once a sign-in has finished
// ("QR Login — Signed in"): the task bar shows it, and the end-to-end test
// (internal/harness) waits for it as the visible sign that the window
// reached the Done screen.
const SignedInSuffix = " — Signed in"

// withSignedInTitle makes the window's title follow the sign-in: base
// while one runs, base + SignedInSuffix once it is done.
func withSignedInTitle(w fyne.Window, base string, svc ui.Services) ui.Services {
	start := svc.StartSignIn
	svc.StartSignIn = func(ctx context.Context, homeserver string, s config.Settings, emit func(login.Event)) ui.Controller {
		w.SetTitle(base) // on the UI goroutine: the screens start sign-ins
		return start(ctx, homeserver, s, func(ev login.Event) {
			emit(ev)
			if _, done := ev.(login.Done); done {
				fyne.Do(func() { w.SetTitle(base + SignedInSuffix) })
			}
		})
	}
	return svc
}
