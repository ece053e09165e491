package ui

import (
	"context"
	"errors"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/qrlogin/qrlogin/app/accounts"
	"github.com/qrlogin/qrlogin/app/explain"
	"github.com/qrlogin/qrlogin/app/signin"
)

// logoutTimeout bounds signing out: revoking is two small requests.
const logoutTimeout = 30 * time.Second

// accountStore opens the store once; the screens may ask from background
// goroutines.
type accountStore struct {
	mu    sync.Mutex
	store Accounts
}

func (a *App) accounts() (Accounts, error) {
	a.store.mu.Lock()
	defer a.store.mu.Unlock()
	if a.store.store != nil {
		return a.store.store, nil
	}
	if a.svc.OpenAccounts == nil {
		return nil, errors.New("no account store in this build")
	}
	s, err := a.svc.OpenAccounts()
	if err != nil {
		return nil, err
	}
	a.store.store = s
	return s, nil
}

func (a *App) listAccounts() ([]accounts.Meta, error) {
	store, err := a.accounts()
	if err != nil {
		return nil, err
	}
	return store.List()
}

// ShowAccounts shows the accounts signed in on this computer, each with
// Copy user ID, Sign in another device (when this build can) and Sign out.
func (a *App) ShowAccounts() {
	a.qr = nil
	title := heading("Accounts on this computer")
	rows := container.NewVBox(widget.NewLabel("Reading the keyring…"))
	back := newButton("Back", widget.MediumImportance, a.ShowStart, a.ShowStart)
	back.Icon = theme.NavigateBackIcon()

	a.show(&view{
		name:     "accounts",
		content:  container.NewBorder(title, container.NewHBox(back), nil, nil, container.NewVScroll(rows)),
		focus:    back,
		onEscape: a.ShowStart,
	})
	a.fillAccounts(rows)
}

// fillAccounts reads the list in the background and shows it.
func (a *App) fillAccounts(rows *fyne.Container) {
	a.background(func() {
		list, err := a.listAccounts()
		fyne.Do(func() {
			rows.RemoveAll()
			switch {
			case err != nil:
				x := explain.Error(err)
				rows.Add(wrapped(x.Message, widget.DangerImportance))
				rows.Add(wrapped(x.Next, widget.MediumImportance))
			case len(list) == 0:
				rows.Add(wrapped("No accounts are signed in on this computer yet. Go back and choose Sign in with QR code.", widget.MediumImportance))
			default:
				for _, m := range list {
					rows.Add(a.accountRow(m, rows))
					rows.Add(widget.NewSeparator())
				}
			}
		})
	})
}

// accountRow shows one account with its actions.
func (a *App) accountRow(m accounts.Meta, rows *fyne.Container) fyne.CanvasObject {
	user := widget.NewLabelWithStyle(m.UserID, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	user.Selectable = true
	user.Truncation = fyne.TextTruncateEllipsis
	details := widget.NewLabel("Device " + m.DeviceID + " · " + verifiedWords(m.Verified) + " · key backup " + presentWords(m.Backup))
	details.Wrapping = fyne.TextWrapWord
	status := widget.NewLabel("")
	status.Wrapping = fyne.TextWrapWord
	status.Hide()

	copyButton := newButton("Copy user ID", widget.MediumImportance, nil, a.ShowStart)
	copyButton.Icon = theme.ContentCopyIcon()
	copyButton.OnTapped = func() {
		fyne.CurrentApp().Clipboard().SetContent(m.UserID)
		status.Importance = widget.MediumImportance
		status.SetText("Copied " + m.UserID + ".")
		status.Show()
	}
	// Signing another device in with this account (grant.go).
	var grant *button
	if a.svc.StartGrant != nil {
		grant = newButton(GrantButton, widget.MediumImportance, func() { a.Grant(m.UserID) }, a.ShowStart)
		grant.Icon = theme.LoginIcon()
	}
	signOut := newButton("Sign out…", widget.MediumImportance, nil, a.ShowStart)
	signOut.Icon = theme.LogoutIcon()
	// Shown only after a sign-out the server could not carry out.
	removeAnyway := newButton(removeAnywayLabel, widget.DangerImportance, nil, a.ShowStart)
	removeAnyway.Icon = theme.DeleteIcon()
	removeAnyway.Hide()
	busy := func(text string) {
		signOut.Disable()
		copyButton.Disable()
		if grant != nil {
			grant.Disable()
		}
		removeAnyway.Disable()
		status.Importance = widget.MediumImportance
		status.SetText(text)
		status.Show()
	}
	failed := func(err error) {
		x := explain.Error(err)
		status.Importance = widget.DangerImportance
		status.SetText(x.Message + " " + x.Next)
		if offerRemoveAnyway(err) {
			status.SetText(x.Message + " " + removeAnywayHint)
			removeAnyway.Show()
		}
		signOut.Enable()
		copyButton.Enable()
		if grant != nil {
			grant.Enable()
		}
		removeAnyway.Enable()
	}
	// confirmThen asks first, then runs work off the GUI goroutine with
	// busyText showing, and redraws the list when it worked.
	confirmThen := func(title, confirm, question, busyText string, size fyne.Size, work func(userID string) error) {
		msg := wrapped(question, widget.MediumImportance)
		d := dialog.NewCustomConfirm(title, confirm, "Keep", msg, func(ok bool) {
			if !ok {
				return
			}
			busy(busyText)
			a.background(func() {
				err := work(m.UserID)
				fyne.Do(func() {
					if err != nil {
						failed(err)
						return
					}
					a.fillAccounts(rows)
				})
			})
		}, a.window)
		d.Resize(size)
		d.Show()
	}
	signOut.OnTapped = func() {
		confirmThen("Sign out?", "Sign out",
			"Sign "+m.UserID+" out of this computer? The server ends this device's session and the keys stored here are removed.",
			"Signing out…", fyne.NewSize(420, 200), a.logout)
	}
	removeAnyway.OnTapped = func() {
		confirmThen("Remove from this computer?", "Remove", removeAnywayQuestion(m),
			"Removing…", fyne.NewSize(460, 220), a.removeLocally)
	}
	actions := container.NewHBox(copyButton)
	if grant != nil {
		actions.Add(grant)
	}
	actions.Add(signOut)
	actions.Add(removeAnyway)
	return container.NewVBox(user, details, actions, status)
}

// offerRemoveAnyway: a sign-out the server did not carry out (it could not
// be reached, or it refused), or one that cannot read what is stored, can
// still remove the account from this computer. A keyring that cannot be
// used could not do that either.
func offerRemoveAnyway(err error) bool {
	return errors.As(err, new(*signin.RevokeError)) || errors.As(err, new(*accounts.CorruptError))
}

func (a *App) logout(userID string) error {
	store, err := a.accounts()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), logoutTimeout)
	defer cancel()
	return signin.Logout(ctx, store, userID)
}

// The offer to remove an account from this computer when signing out
// cannot reach the server.
const (
	removeAnywayLabel = "Remove from this computer anyway…"
	removeAnywayHint  = "Try again when the server can be reached, or remove the account from this computer only."
)

func removeAnywayQuestion(m accounts.Meta) string {
	return "Remove " + m.UserID + " from this computer without signing it out at the server? The keys stored here are deleted, " +
		"but the device " + m.DeviceID + " stays on your account until you remove it in another Matrix app."
}

func (a *App) removeLocally(userID string) error {
	store, err := a.accounts()
	if err != nil {
		return err
	}
	return signin.RemoveLocally(store, userID)
}

func presentWords(present bool) string {
	if present {
		return "present"
	}
	return "not shared"
}
