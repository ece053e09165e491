package desktop

import (
	"context"
	"fmt"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"

	"github.com/qrlogin/qrlogin/internal/identity"
	"github.com/qrlogin/qrlogin/ui"
	"github.com/qrlogin/qrlogin/ui/demo"
)

// DemoTitle is the demo's sign-in window title; the "Demo" in it says that
// nothing there is real.
const DemoTitle = identity.DisplayName + " — Demo"

// RunDemo is `qrlogin demo`: the sign-in window pointed at an in-process
// development homeserver, and a pretend phone window (package ui/demo). It
// blocks until the windows are closed and returns the exit code.
func RunDemo() int {
	if err := checkDisplay(os.Getenv); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", identity.BinaryName, err)
		return 1
	}
	a := newApp()
	if err := openDemo(a, true); err != nil {
		fmt.Fprintf(os.Stderr, "%s demo: %v\n", identity.BinaryName, err)
		return 1
	}
	a.Run()
	return 0
}

// tryWithoutPhone is the start screen's "Try it without a phone": the same
// demo, opened next to the app's own window.
func tryWithoutPhone(a fyne.App, parent fyne.Window) func() {
	return func() {
		if err := openDemo(a, false); err != nil {
			dialog.ShowError(fmt.Errorf("the demo could not start: %w", err), parent)
		}
	}
}

// openDemo starts a demo session and opens its two windows. Closing either
// ends the session (the server, the phone and the in-memory account).
func openDemo(a fyne.App, master bool) error {
	session, err := demo.Start(context.Background())
	if err != nil {
		return err
	}
	w := a.NewWindow(DemoTitle)
	screens := ui.New(w, withSignedInTitle(w, DemoTitle, session.Services()))
	w.SetContent(container.NewBorder(demo.Banner(), nil, nil, nil, w.Content()))

	phone := a.NewWindow(demo.PhoneTitle)
	phone.SetContent(container.NewPadded(session.Phone.Content()))
	phone.Resize(fyne.NewSize(360, 460))

	closed := false
	closeBoth := func() {
		if closed {
			return
		}
		closed = true
		screens.Shutdown()
		if err := session.Close(); err != nil {
			fyne.LogError("closing the demo", err)
		}
		phone.Close()
		w.Close()
	}
	w.SetCloseIntercept(closeBoth)
	phone.SetCloseIntercept(closeBoth)
	if master {
		w.SetMaster()
	}
	w.Resize(fyne.NewSize(900, 640)) // the app window's 900×600 plus the Demo banner
	w.Show()
	phone.Show()
	return nil
}
