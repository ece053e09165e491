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
	a.showApproveScreen(ApproveTitle, ApproveHelp,
		container.NewHBox(code, container.NewCenter(copyButton), container.NewCenter(copied)), left.label, left.stop)
}

// showApproveScreen is the approve screen of either direction: a title,
// what to do, the code or address to use, and what is below it (the
// countdown); stop ends the screen's timer.
func (a *App) showApproveScreen(title, help string, what fyne.CanvasObject, below fyne.CanvasObject, stop func()) {
	cancel := newButton("Cancel", widget.MediumImportance, a.CancelSignIn, a.CancelSignIn)
	cancel.Icon = theme.CancelIcon()
	body := container.NewVBox(heading(title), wrapped(help, widget.MediumImportance), what)
	if below != nil {
		body.Add(below)
	}
	a.show(&view{
		name:     "approve",
		content:  container.NewBorder(nil, container.NewHBox(cancel), nil, nil, middle(body)),
		onEscape: a.CancelSignIn,
		stop:     stop,
	})
}
