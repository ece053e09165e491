package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/qrlogin/qrlogin/protocol/login"
)

// Approve words.
const (
	ApproveTitle = "Approve the sign-in on your phone"
	ApproveHelp  = "Your phone shows a page to approve this computer. If it asks for a code, enter this one:"
)

// showApprove shows the user code large and a countdown to whichever ends
// the attempt first (the flow puts that in ExpiresAt).
func (a *App) showApprove(ev login.UserCode) {
	a.qr = nil
	code := newBigCode(ev.UserCode)
	copied := widget.NewLabel("")
	copyButton := newButton("Copy", widget.MediumImportance, func() {
		fyne.CurrentApp().Clipboard().SetContent(ev.UserCode)
		copied.SetText("Copied.")
	}, a.CancelSignIn)
	copyButton.Icon = theme.ContentCopyIcon()

	left := a.newCountdown(ev.ExpiresAt, func(left string) string {
		return "Time left to approve: " + left
	})
	cancel := newButton("Cancel", widget.MediumImportance, a.CancelSignIn, a.CancelSignIn)
	cancel.Icon = theme.CancelIcon()

	body := container.NewVBox(
		heading(ApproveTitle),
		wrapped(ApproveHelp, widget.MediumImportance),
		container.NewHBox(code, container.NewCenter(copyButton), container.NewCenter(copied)),
		left.label,
	)
	a.show(&view{
		name:     "approve",
		content:  container.NewBorder(nil, container.NewHBox(cancel), nil, nil, middle(body)),
		onEscape: a.CancelSignIn,
		stop:     left.stop,
	})
}
