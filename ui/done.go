package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/qrlogin/qrlogin/protocol/login"
)

// showDone says who is signed in and what the phone shared.
func (a *App) showDone(ev login.Done) {
	title := heading("This computer is signed in")

	user := widget.NewLabelWithStyle(ev.UserID, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	user.Selectable = true
	device := widget.NewLabel(ev.DeviceID)
	device.Selectable = true

	verified := "Yes: your other devices trust this computer."
	if !ev.Verified {
		verified = "No: verify this computer from your phone to read encrypted messages from before."
	}
	backup := "Not known."
	if a.state.secretsKnown {
		if a.state.backup {
			backup = "Present: older encrypted messages can be read here."
		} else {
			backup = "Not shared: set up key backup (recovery) on your phone to read older messages here."
		}
	}
	facts := widget.NewForm(
		widget.NewFormItem("Account", user),
		widget.NewFormItem("Device", device),
		widget.NewFormItem("Verified", wrapped(verified, widget.MediumImportance)),
		widget.NewFormItem("Key backup", wrapped(backup, widget.MediumImportance)),
	)
	back := newButton("Done", widget.HighImportance, a.ShowStart, a.ShowStart)
	accountsButton := newButton("Accounts", widget.MediumImportance, a.ShowAccounts, a.ShowStart)
	accountsButton.Icon = theme.AccountIcon()
	a.showDoneScreen(title, facts, back, accountsButton)
}

// showDoneScreen is the done screen of either direction: a success icon,
// the title and the facts above the buttons, the first of which has the
// focus; Enter presses it and Escape goes home.
func (a *App) showDoneScreen(title *widget.Label, facts *widget.Form, buttons ...*button) {
	a.qr = nil
	icon := widget.NewIcon(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
	row := container.NewHBox()
	for _, b := range buttons {
		row.Add(b)
	}
	body := container.NewVBox(container.NewBorder(nil, nil, icon, nil, title), facts)
	a.show(&view{
		name:     "done",
		content:  container.NewBorder(nil, row, nil, nil, body),
		focus:    buttons[0],
		onEnter:  buttons[0].OnTapped,
		onEscape: a.home,
	})
}
