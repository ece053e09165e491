package ui

import (
	"net/url"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/qrlogin/qrlogin/app/explain"
	"github.com/qrlogin/qrlogin/app/signin"
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
	buttons := container.NewHBox(again)
	if server, ok := signin.PhoneHomeserver(err); ok {
		// The phone is signed in to another server: offer it, but only as
		// an explicit choice; the focused default stays the chosen server.
		instead := newButton("Sign in to "+serverLabel(server)+" instead", widget.MediumImportance, func() { a.startSignIn(server) }, a.ShowStart)
		instead.Icon = theme.LoginIcon()
		buttons.Add(instead)
	}
	buttons.Add(back)

	body := container.NewVBox(container.NewBorder(nil, nil, icon, nil, message), next, details)
	a.show(&view{
		name:     "error",
		content:  container.NewBorder(nil, buttons, nil, nil, container.NewVScroll(middle(body))),
		focus:    again,
		onEnter:  restart,
		onEscape: home,
	})
}

// serverLabel is a base URL as a button shows it: the host (and a path, if
// any) without the scheme, cut short so that a long name cannot push the
// buttons off the window.
func serverLabel(baseURL string) string {
	label := baseURL
	if u, err := url.Parse(baseURL); err == nil && u.Host != "" {
		label = u.Host + strings.TrimRight(u.EscapedPath(), "/")
	}
	const limit = 48
	if r := []rune(label); len(r) > limit {
		label = string(r[:limit-1]) + "…"
	}
	return label
}
