package demo

import (
	"context"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/qrlogin/qrlogin/protocol/login"
)

// startSession runs a demo session for one test.
func startSession(t *testing.T) *Session {
	t.Helper()
	test.NewTempApp(t)
	s, err := Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// The phone can scan only while the desktop shows a code, and forgets a
// code whose sign-in ended.
func TestPhoneScansOnlyAShowingCode(t *testing.T) {
	s := startSession(t)
	p := s.Phone
	if p.CanScan() || p.CanDecide() || p.Status() != PhoneWaiting {
		t.Fatalf("fresh phone: scan %v, decide %v, status %q", p.CanScan(), p.CanDecide(), p.Status())
	}
	p.DesktopEvent(login.QRReady{Payload: []byte("not scanned yet")})
	if !p.CanScan() || p.Status() != PhoneCodeReady {
		t.Fatalf("after QRReady: scan %v, status %q", p.CanScan(), p.Status())
	}
	p.DesktopEvent(login.Failed{})
	if p.CanScan() || p.Status() != PhoneWaiting {
		t.Fatalf("after Failed: scan %v, status %q", p.CanScan(), p.Status())
	}
	p.decide(true) // nothing pending: nothing happens
	if p.Status() != PhoneWaiting {
		t.Fatalf("approve with nothing pending changed the status to %q", p.Status())
	}
}
