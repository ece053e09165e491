//go:build !race

package demo

// These tests run the demo for real: the controller, the pretend phone and
// the dev server each on their own goroutines, updating the screens through
// fyne.Do. Fyne's test driver runs fyne.Do callbacks on the calling
// goroutine (the real driver queues them to the main one), so under the race
// detector they report races that the real app cannot have; they are left
// out of -race runs. The Xvfb tests in internal/harness cover the same
// paths with the real driver.

import (
	"context"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/qrlogin/qrlogin/app/config"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/ui"
)

// A code the phone cannot read ends the scan with a sentence, and the
// phone can scan the next code.
func TestPhoneReportsAnUnreadableCode(t *testing.T) {
	s := startSession(t)
	p := s.Phone
	changed := make(chan struct{}, 16)
	p.changed = func() { changed <- struct{}{} }
	p.DesktopEvent(login.QRReady{Payload: []byte("garbage")})
	p.Scan()
	waitFor(t, changed, func() bool { return !p.running })
	if p.Status() == PhoneScanning || p.Status() == PhoneDone {
		t.Fatalf("status after a bad code: %q", p.Status())
	}
}

// The demo's whole journey, as a newcomer clicks through it: the real
// screens signed in to the in-process dev server, the pretend phone
// scanning, the check code typed, Approve on the phone, Done; the account
// in the demo's in-memory store only.
func TestDemoWholeJourney(t *testing.T) {
	s := startSession(t)
	events := make(chan login.Event, 64)
	svc := s.Services()
	start := svc.StartSignIn
	svc.StartSignIn = func(ctx context.Context, hs string, set config.Settings, emit func(login.Event)) ui.Controller {
		return start(ctx, hs, set, func(ev login.Event) { emit(ev); events <- ev })
	}
	changed := make(chan struct{}, 64)
	s.Phone.changed = func() { changed <- struct{}{} }

	w := test.NewTempWindow(t, nil)
	w.Resize(fyne.NewSize(900, 600))
	screens := ui.New(w, svc)
	if screens.Screen() != "start" {
		t.Fatalf("first screen %q", screens.Screen())
	}
	// Enter on the start screen signs in to the demo server, filled in.
	pressKey(w, fyne.KeyReturn)
	waitEvent[login.QRReady](t, events)
	waitFor(t, changed, s.Phone.CanScan)

	s.Phone.Scan()
	waitFor(t, changed, func() bool { return s.Phone.CheckCode() != "" })
	code := s.Phone.CheckCode()
	waitEvent[login.CheckCodeNeeded](t, events)
	if screens.Screen() != "check-code" {
		t.Fatalf("screen %q, want check-code", screens.Screen())
	}
	focused := w.Canvas().Focused()
	if focused == nil {
		t.Fatal("nothing has the focus on the check-code screen")
	}
	test.Type(focused, code)
	pressKey(w, fyne.KeyReturn)

	waitFor(t, changed, s.Phone.CanDecide)
	waitEvent[login.UserCode](t, events)
	test.Tap(s.Phone.approve)
	done := waitEvent[login.Done](t, events)
	waitFor(t, changed, func() bool { return s.Phone.Status() == PhoneDone })
	if screens.Screen() != "done" {
		t.Fatalf("screen %q, want done", screens.Screen())
	}
	if done.UserID != s.Server.UserID() {
		t.Errorf("signed in as %q, want %q", done.UserID, s.Server.UserID())
	}
	stored, err := s.store.List()
	if err != nil || len(stored) != 1 || stored[0].UserID != s.Server.UserID() {
		t.Errorf("demo store holds %+v (%v)", stored, err)
	}
}

// Deny on the phone ends the desktop's attempt with an error screen.
func TestDemoDeny(t *testing.T) {
	s := startSession(t)
	events := make(chan login.Event, 64)
	svc := s.Services()
	start := svc.StartSignIn
	svc.StartSignIn = func(ctx context.Context, hs string, set config.Settings, emit func(login.Event)) ui.Controller {
		return start(ctx, hs, set, func(ev login.Event) { emit(ev); events <- ev })
	}
	changed := make(chan struct{}, 64)
	s.Phone.changed = func() { changed <- struct{}{} }
	w := test.NewTempWindow(t, nil)
	screens := ui.New(w, svc)
	pressKey(w, fyne.KeyReturn)
	waitEvent[login.QRReady](t, events)
	waitFor(t, changed, s.Phone.CanScan)
	s.Phone.Scan()
	waitFor(t, changed, func() bool { return s.Phone.CheckCode() != "" })
	code := s.Phone.CheckCode()
	waitEvent[login.CheckCodeNeeded](t, events)
	test.Type(w.Canvas().Focused(), code)
	pressKey(w, fyne.KeyReturn)
	waitFor(t, changed, s.Phone.CanDecide)
	waitEvent[login.UserCode](t, events)
	test.Tap(s.Phone.deny)
	failed := waitEvent[login.Failed](t, events)
	if screens.Screen() != "error" {
		t.Errorf("screen %q after a denial, want error", screens.Screen())
	}
	if failed.Err == nil {
		t.Error("Failed without a reason")
	}
	if s.Phone.Status() != PhoneDenied {
		t.Errorf("phone says %q", s.Phone.Status())
	}
}

// pressKey presses a key as the driver does: to the focused widget if
// any, else to the canvas.
func pressKey(w fyne.Window, name fyne.KeyName) {
	c := w.Canvas()
	if f := c.Focused(); f != nil {
		f.TypedKey(&fyne.KeyEvent{Name: name})
		return
	}
	if on := c.OnTypedKey(); on != nil {
		on(&fyne.KeyEvent{Name: name})
	}
}

// journeyTimeout bounds each wait: the dev server answers at once, but a
// loaded 2-core machine with -race is slow, and the device code is polled
// every second.
const journeyTimeout = 60 * time.Second

// waitFor waits until cond holds, re-checking after every phone change.
func waitFor(t *testing.T, changed <-chan struct{}, cond func() bool) {
	t.Helper()
	deadline := time.After(journeyTimeout)
	for !cond() {
		select {
		case <-changed:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatal("timed out waiting for the phone")
		}
	}
}

// waitEvent waits for the desktop's next event of type E, skipping others.
func waitEvent[E login.Event](t *testing.T, events <-chan login.Event) E {
	t.Helper()
	deadline := time.After(journeyTimeout)
	for {
		select {
		case ev := <-events:
			if e, ok := ev.(E); ok {
				return e
			}
			if f, failed := ev.(login.Failed); failed {
				t.Fatalf("the sign-in failed: %v", f.Err)
			}
		case <-deadline:
			var zero E
			t.Fatalf("timed out waiting for %T", zero)
		}
	}
}
