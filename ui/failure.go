package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/qrlogin/qrlogin/app/explain"
)

// showFailure explains why the sign-in ended, in the words of the one
// error table (app/explain), with Start again (the same sign-in, or the
// same grant), Back, and the technical reason folded away.
func (a *App) showFailure(err error) {
	a.qr = nil
	x := explain.Error(err)
	icon := widget.NewIcon(theme.NewErrorThemedResource(theme.ErrorIcon()))
	message := heading(x.Message)
	next := wrapped(x.Next, widget.MediumImportance)

	detail := widget.NewLabel(x.Detail)
	detail.Wrapping = fyne.TextWrapWord
	detail.Selectable = true
	detail.TextStyle = fyne.TextStyle{Monospace: true}
	details := widget.NewAccordion(widget.NewAccordionItem("Details", detail))

	restart, home := a.restart, a.home
	again := newButton("Start again", widget.HighImportance, restart, home)
	again.Icon = theme.ViewRefreshIcon()
	back := newButton("Back", widget.MediumImportance, home, home)
	back.Icon = theme.NavigateBackIcon()

	body := container.NewVBox(container.NewBorder(nil, nil, icon, nil, message), next, details)
	a.show(&view{
		name:     "error",
		content:  container.NewBorder(nil, container.NewHBox(again, back), nil, nil, container.NewVScroll(middle(body))),
		focus:    again,
		onEnter:  restart,
		onEscape: home,
	})
}
