package ui

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/qrlogin/qrlogin/app/explain"
	"github.com/qrlogin/qrlogin/protocol/login"
)

// errMismatch is a phone signed in to another server than the one chosen.
var errMismatch = fmt.Errorf("login: %w", &login.HomeserverMismatchError{Chosen: "https://matrix.example.org", Phone: "https://matrix.other.example"})

// TestHomeserverMismatchOffersThePhonesServer: when the phone is signed in
// to another server, the error screen names both and asks "Sign in to
// SERVER instead?" with a button; only that explicit click starts a sign-in
// to the phone's server. Start again (the focused default) keeps the
// server the user chose.
func TestHomeserverMismatchOffersThePhonesServer(t *testing.T) {
	h := newHarness(t)
	h.signInToQR("")
	h.emit(login.Failed{Err: errMismatch})
	h.wantScreen("error")
	x := explain.Error(errMismatch)
	if !h.hasText(x.Message) {
		t.Fatalf("error screen does not say %q", x.Message)
	}
	// Enter is Start again, with the chosen server.
	h.key(fyne.KeyReturn)
	h.wantScreen("connecting")
	if !slices.Equal(h.started, []string{"example.org", "example.org"}) {
		t.Fatalf("Enter started %q, want the chosen server again", h.started)
	}

	h.emit(login.Failed{Err: errMismatch})
	h.wantScreen("error")
	test.Tap(h.button("Sign in to matrix.other.example instead"))
	h.wantScreen("connecting")
	if !slices.Equal(h.started, []string{"example.org", "example.org", "https://matrix.other.example"}) {
		t.Fatalf("started %q, want the phone's server last", h.started)
	}
	if last := h.saved[len(h.saved)-1]; last.LastHomeserver != "https://matrix.other.example" {
		t.Errorf("remembered %q as the last server", last.LastHomeserver)
	}
}

func TestServerLabel(t *testing.T) {
	for in, want := range map[string]string{
		"https://matrix.other.example":        "matrix.other.example",
		"https://example.org:8448/":           "example.org:8448",
		"https://example.org/matrix/":         "example.org/matrix",
		"https://" + strings.Repeat("a", 100): strings.Repeat("a", 47) + "…",
	} {
		if got := serverLabel(in); got != want {
			t.Errorf("serverLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

// Other errors offer no other server.
func TestOtherErrorsOfferNoOtherServer(t *testing.T) {
	h := newHarness(t)
	h.signInToQR("")
	h.emit(login.Failed{Err: errTest})
	h.wantScreen("error")
	for _, b := range widgets[*button](h) {
		if strings.HasPrefix(b.Text, "Sign in to ") {
			t.Fatalf("button %q after %v", b.Text, errTest)
		}
	}
	for _, b := range widgets[*widget.Button](h) {
		if strings.HasPrefix(b.Text, "Sign in to ") {
			t.Fatalf("button %q after %v", b.Text, errTest)
		}
	}
}
