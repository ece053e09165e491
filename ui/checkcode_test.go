package ui

import (
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/qrlogin/qrlogin/app/explain"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
)

// TestMalformedCheckCodeSaysWhatTheTerminalSays: the check code field reads
// what is typed with the parser the terminal uses, and says what is wrong
// in the words of the one error table (app/explain), the same sentence
// `qrlogin login --headless` prints before asking again. The attempt goes
// on: nothing is submitted until the code can be one.
func TestMalformedCheckCodeSaysWhatTheTerminalSays(t *testing.T) {
	h := newHarness(t)
	h.signInToQR("")
	h.emit(login.CheckCodeNeeded{})
	x := explain.Error(securechannel.ErrCheckCodeFormat)
	words := x.Message + " " + x.Next
	field := h.window.Canvas().Focused()
	for _, typed := range []string{"7x", "１２", "123", "٣"} {
		field.(*entry).SetText("")
		test.Type(field, typed)
		if !h.hasText(words) {
			t.Fatalf("typing %q does not show %q", typed, words)
		}
		h.key(fyne.KeyReturn)
		h.wantScreen("check-code")
	}
	if len(h.ctrl().codes) != 0 {
		t.Fatalf("malformed codes were submitted: %q", h.ctrl().codes)
	}
	field.(*entry).SetText("")
	test.Type(field, "07")
	if h.hasText(words) {
		t.Fatal("a good code is still flagged")
	}
	h.key(fyne.KeyReturn)
	if got := h.ctrl().codes; !slices.Equal(got, []string{"07"}) {
		t.Fatalf("submitted %q, want [07]", got)
	}
}
