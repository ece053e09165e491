// Package desktop opens qrlogin's window. It is the only package besides
// main that imports fyne.io/fyne/v2/app (and with it GLFW and cgo); keeping
// the import here lets every other package build without cgo and test
// without a display.
package desktop

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/qrlogin/qrlogin/assets"
	"github.com/qrlogin/qrlogin/internal/identity"
	"github.com/qrlogin/qrlogin/ui"
)

// ErrNoDisplay is returned when there is no X display to open a window on;
// without this check GLFW panics with "The GLFW library is not initialized".
var ErrNoDisplay = errors.New("no display: DISPLAY is not set (run a command instead, see qrlogin --help)")

// Run opens the window, blocks until it is closed and returns the exit code.
// It is what cli.FrontEnds.Window expects.
func Run() int { return RunSignIn("") }

// RunSignIn is Run that starts signing in to homeserver at once, as
// `qrlogin login --homeserver example.org` asks (and the GUI benchmarks
// time: process start to QR code, with no key press); "" shows the start
// screen.
func RunSignIn(homeserver string) int { return run(homeserver, "") }

// RunGrant opens the window signing another device in with the stored
// account userID, as `qrlogin grant` asks.
func RunGrant(userID string) int { return run("", userID) }

// run opens the window on the start screen, a sign-in to homeserver or a
// grant for grantUser.
func run(homeserver, grantUser string) int {
	if err := checkDisplay(os.Getenv); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", identity.BinaryName, err)
		return 1
	}
	a := newApp()
	w := a.NewWindow(identity.DisplayName)
	// ui.New sets the content and takes over closing, so that closing the
	// window cancels a sign-in and tells the phone.
	// (Demo and end-to-end hooks, ui/desktop/demo.go and title.go: the start
	// screen's "Try it without a phone" (docs/design-notes.md "Demo"), and
	// the title saying "Signed in".)
	svc := ui.DefaultServices()
	svc.TryWithoutPhone = tryWithoutPhone(a, w)
	svc = withStartupRelease(withSignedInTitle(w, identity.DisplayName, svc))
	switch {
	case homeserver != "":
		ui.NewSigningIn(w, svc, homeserver)
	case grantUser != "":
		ui.NewGranting(w, svc, grantUser)
	default:
		ui.New(w, svc)
	}
	w.Resize(fyne.NewSize(900, 600))
	w.SetMaster()
	w.ShowAndRun()
	return 0
}

// newApp creates the Fyne app with qrlogin's metadata: what `fyne package`
// would inject from FyneApp.toml, set here so a plain `go build` (CI, the
// .deb) behaves the same from any working directory. The fyneDo migration
// means: only the main goroutine touches widgets, others go through fyne.Do.
//
// The window icon is the 256 px PNG, not the SVG: GLFW wants a 256 px
// bitmap, and rasterising the SVG for it costs CPU at every start
// (docs/build-notes.md "Benchmarks").
func newApp() fyne.App {
	icon := fyne.NewStaticResource(identity.AppID+".png", assets.IconPNG256)
	app.SetMetadata(fyne.AppMetadata{
		ID:         identity.AppID,
		Name:       identity.DisplayName,
		Version:    identity.Version,
		Build:      1,
		Icon:       icon,
		Migrations: map[string]bool{"fyneDo": true},
	})
	a := app.NewWithID(identity.AppID)
	a.SetIcon(icon)
	releaseAfterStart(a) // memory.go
	return a
}

// checkDisplay fails early where Fyne's default (X11/GLX) driver needs an X
// display; macOS and Windows always have one.
func checkDisplay(getenv func(string) string) error {
	switch runtime.GOOS {
	case "darwin", "windows", "android", "ios", "js":
		return nil
	}
	if getenv("DISPLAY") == "" {
		return ErrNoDisplay
	}
	return nil
}
