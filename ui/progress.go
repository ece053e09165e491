package ui

import (
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// showProgress is a stage with nothing to do but wait: connecting,
// checking the code, waiting for the phone, setting up encryption. The
// spinner runs only while the screen shows.
func (a *App) showProgress(name, title, detail string) {
	a.qr = nil
	spinner := widget.NewActivity()
	spinner.Start()
	cancel := newButton("Cancel", widget.MediumImportance, a.CancelSignIn, a.CancelSignIn)
	cancel.Icon = theme.CancelIcon()
	body := container.NewVBox(
		heading(title),
		container.NewBorder(nil, nil, spinner, nil, wrapped(detail, widget.MediumImportance)),
	)
	a.show(&view{
		name:     name,
		content:  container.NewBorder(nil, container.NewHBox(cancel), nil, nil, body),
		onEscape: a.CancelSignIn,
		stop:     spinner.Stop,
	})
}
