package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/qrlogin/qrlogin/app/explain"
	"github.com/qrlogin/qrlogin/app/signin"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
)

// Check code words.
const (
	CheckCodeTitle = "Enter the code shown on your phone"
	CheckCodeHelp  = "Your phone scanned the code and now shows two digits. Typing them here proves that it was your phone."
)

// checkCodeInvalid is what the field says while its text cannot be a check
// code: the error table's sentence, the one `qrlogin login --headless`
// prints before asking again.
func checkCodeInvalid() string {
	return explain.Error(securechannel.ErrCheckCodeFormat).Sentence()
}

// GrantCheckCodeInvalid is checkCodeInvalid in the grant's words, the
// sentence `qrlogin grant --headless` prints.
func GrantCheckCodeInvalid() string {
	return explain.Error(&signin.GrantError{Err: securechannel.ErrCheckCodeFormat}).Sentence()
}

// validCheckCode reports whether text can be a check code, with the
// parser the terminal and the flow use.
func validCheckCode(text string) bool {
	_, err := securechannel.ParseCheckCode(text)
	return err == nil
}

// showCheckCode asks for the digits the other device shows (the phone, or
// in a grant the new device).
func (a *App) showCheckCode() {
	a.qr = nil
	problem := wrapped(a.words.checkCodeInvalid, widget.DangerImportance)
	problem.Hide()

	code := newEntry(a.CancelSignIn)
	code.SetPlaceHolder("Two digits")
	submitted := false
	submit := func() {
		text := strings.TrimSpace(code.Text)
		if !validCheckCode(text) {
			problem.Show()
			a.window.Canvas().Focus(code)
			return
		}
		if submitted || a.ctrl == nil {
			return
		}
		submitted = true
		a.ctrl.SubmitCheckCode(text)
		a.showProgress("checking", "Checking the code", a.words.checking)
	}
	code.OnSubmitted = func(string) { submit() }
	code.OnChanged = func(text string) {
		// Say so as soon as something other than a digit is typed, or a
		// third digit; an empty field is not an error yet.
		text = strings.TrimSpace(text)
		if text == "" || validCheckCode(text) {
			problem.Hide()
		} else {
			problem.Show()
		}
	}
	next := newButton("Continue", widget.HighImportance, submit, a.CancelSignIn)
	next.Icon = theme.ConfirmIcon()
	cancel := newButton("Cancel", widget.MediumImportance, a.CancelSignIn, a.CancelSignIn)
	cancel.Icon = theme.CancelIcon()

	// A narrow field: two digits, not a paragraph.
	field := container.NewGridWrap(fyne.NewSize(140, code.MinSize().Height), code)
	body := container.NewVBox(
		heading(a.words.checkCodeTitle),
		wrapped(a.words.checkCodeHelp, widget.MediumImportance),
		// Indented by the labels' inner padding, so the field lines up
		// with the words above it.
		container.New(layout.NewCustomPaddedLayout(0, 0, theme.InnerPadding(), 0), container.NewHBox(field, next)),
		problem,
	)
	a.show(&view{
		name:     "check-code",
		content:  container.NewBorder(nil, container.NewHBox(cancel), nil, nil, middle(body)),
		focus:    code,
		onEnter:  submit,
		onEscape: a.CancelSignIn,
	})
}
