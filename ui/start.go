package ui

import (
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/qrlogin/qrlogin/app/accounts"
	"github.com/qrlogin/qrlogin/internal/identity"
)

// Tagline says in one sentence what the app does.
const Tagline = "Sign this computer in to your Matrix account by scanning a QR code with your phone."

// ShowStart shows the start screen: the server to sign in to, the Sign in
// button, the accounts already here, and the ways to Accounts and Settings.
func (a *App) ShowStart() {
	a.qr = nil
	icon := canvas.NewImageFromResource(AppIcon())
	icon.FillMode = canvas.ImageFillContain
	icon.SetMinSize(fyne.NewSquareSize(64))

	title := widget.NewLabelWithStyle(identity.DisplayName, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameHeadingText
	tagline := widget.NewLabel(Tagline)
	tagline.Wrapping = fyne.TextWrapWord
	header := container.NewBorder(nil, nil, icon, nil, container.NewVBox(title, tagline))

	problem := widget.NewLabel("")
	problem.Importance = widget.DangerImportance
	problem.Wrapping = fyne.TextWrapWord
	problem.Hide()

	// Type a server, or choose one of the accounts' servers.
	server := widget.NewSelectEntry(nil)
	server.SetPlaceHolder("Your server, for example matrix.org")
	server.SetText(a.homeserver)
	server.CursorColumn = len([]rune(a.homeserver)) // type on at the end
	submit := func() {
		hs := strings.TrimSpace(server.Text)
		if msg := checkHomeserver(hs); msg != "" {
			problem.SetText(msg)
			problem.Show()
			a.window.Canvas().Focus(server)
			return
		}
		a.startSignIn(hs)
	}
	server.OnSubmitted = func(string) { submit() }
	server.OnChanged = func(string) {
		if problem.Visible() {
			problem.Hide()
		}
	}
	signIn := newButton("Sign in with QR code", widget.HighImportance, submit, nil)
	signIn.Icon = theme.LoginIcon()

	serverLabel := widget.NewLabelWithStyle("Server", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	form := container.NewVBox(serverLabel, server, problem, signIn)

	body := container.NewVBox(header, widget.NewSeparator(), form, a.startAccounts(func(list []accounts.Meta) {
		server.SetOptions(serverChoices(a.homeserver, list))
	}))

	var footer []fyne.CanvasObject
	if a.svc.TryWithoutPhone != nil {
		demo := newButton("Try it without a phone", widget.MediumImportance, a.svc.TryWithoutPhone, nil)
		demo.Icon = theme.MediaPlayIcon()
		footer = append(footer, demo)
	}
	footer = append(footer, layout.NewSpacer())
	accountsButton := newButton("Accounts", widget.LowImportance, a.ShowAccounts, nil)
	accountsButton.Icon = theme.AccountIcon()
	settingsButton := newButton("Settings", widget.LowImportance, a.ShowSettings, nil)
	settingsButton.Icon = theme.SettingsIcon()
	footer = append(footer, accountsButton, settingsButton)

	a.show(&view{
		name:    "start",
		content: container.NewBorder(nil, container.NewHBox(footer...), nil, nil, container.NewVScroll(body)),
		focus:   server,
		onEnter: submit,
	})
}

// checkHomeserver catches what cannot be a server before asking the
// network: an empty field or one with spaces. Server names (example.org)
// and base URLs (https://matrix.example.org) are both fine; the sign-in
// resolves names itself.
func checkHomeserver(hs string) string {
	switch {
	case hs == "":
		return "Type the name of your Matrix server first, for example matrix.org."
	case strings.ContainsAny(hs, " \t"):
		return "A server name has no spaces. It looks like matrix.org or chat.example.com."
	}
	return ""
}

// startAccounts lists the accounts already signed in here. It is empty
// until the keyring answers (which may take a moment, or wait for the user
// to unlock it), and stays empty if there are none or the keyring cannot
// be read: the Accounts screen says why. onList gets the list once read.
func (a *App) startAccounts(onList func([]accounts.Meta)) fyne.CanvasObject {
	box := container.NewVBox()
	a.background(func() {
		list, err := a.listAccounts()
		if err != nil || len(list) == 0 {
			return
		}
		fyne.Do(func() {
			onList(list)
			box.Add(widget.NewSeparator())
			box.Add(widget.NewLabelWithStyle("Signed in on this computer", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
			for _, m := range list {
				box.Add(accountLine(m))
			}
		})
	})
	return box
}

// accountLine is one account: user ID, and whether it is verified.
func accountLine(m accounts.Meta) fyne.CanvasObject {
	user := widget.NewLabel(m.UserID)
	user.Truncation = fyne.TextTruncateEllipsis
	status := widget.NewLabel(verifiedWords(m.Verified))
	icon := widget.NewIcon(theme.AccountIcon())
	return container.NewBorder(nil, nil, icon, status, user)
}

func verifiedWords(verified bool) string {
	if verified {
		return "verified"
	}
	return "not verified"
}

// serverChoices is the server field's drop-down: the last server, then
// each account's server, once each.
func serverChoices(last string, list []accounts.Meta) []string {
	var out []string
	add := func(hs string) {
		if hs != "" && !slices.Contains(out, hs) {
			out = append(out, hs)
		}
	}
	add(last)
	for _, m := range list {
		add(m.Homeserver)
	}
	return out
}
