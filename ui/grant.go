package ui

import (
	"errors"
	"net/url"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/qrlogin/qrlogin/app/signin"
	"github.com/qrlogin/qrlogin/protocol/login"
)

// Signing another device in ("grant"): this computer, signed in as an
// account, shows a QR code that the new device scans, the user types the
// code the new device shows, approves the new device in the browser, and
// the new device is signed in (MSC4108, the existing device's side). The
// screens are the sign-in's, in the grant's words (words.go).

// GrantButton is the Accounts screen's button on each account.
const GrantButton = "Sign in another device"

// NewGranting is New that starts signing another device in with the
// stored account userID instead of showing the start screen: `qrlogin
// grant` opens the window this way (ui/desktop.RunGrant).
func NewGranting(w fyne.Window, svc Services, userID string) *App {
	return newApp(w, svc, func(a *App) { a.grantAtStart = userID })
}

// Grant starts signing another device in with the stored account userID,
// as the Accounts screen's button does. It must be called on the UI
// goroutine.
func (a *App) Grant(userID string) {
	a.cancelSignIn()
	ctx, emit := a.begin(signInState{userID: userID}, &grantWords, a.ShowAccounts, func() { a.Grant(userID) })
	if a.svc.StartGrant == nil {
		a.showFailure(&signin.GrantError{UserID: userID, Err: errors.New("this build cannot sign in other devices")})
		return
	}
	a.showProgress("connecting", "Getting a code for the new device…", "Signing another device in to "+userID+".")
	a.ctrl = a.svc.StartGrant(ctx, userID, a.settings, a.openURI, emit)
}

// openURI opens the page that approves the new device in the system
// browser; the grant calls it from its own goroutine. A failure ends the
// grant (MSC4108 unable_to_open_verification_uri), whose error screen says
// what to do.
func (a *App) openURI(uri string) error {
	u, err := url.Parse(uri)
	if err != nil {
		return err
	}
	return a.openURL(u)
}

// showGrantApprove asks the user to approve the new device on the page
// that opened in the browser, and shows its address to copy or open
// again, in case no browser window came up.
func (a *App) showGrantApprove(ev login.VerificationURI) {
	a.qr = nil
	help := GrantApproveOpened
	if !ev.Opened {
		help = GrantApproveNotOpened
	}
	address := widget.NewLabel(ev.URI)
	address.Selectable = true
	address.Wrapping = fyne.TextWrapBreak
	address.TextStyle = fyne.TextStyle{Monospace: true}
	status := wrapped("", widget.MediumImportance)
	status.Hide()

	copyButton := newButton("Copy address", widget.MediumImportance, func() {
		fyne.CurrentApp().Clipboard().SetContent(ev.URI)
		status.Importance = widget.MediumImportance
		status.SetText("Copied.")
		status.Show()
	}, a.CancelSignIn)
	copyButton.Icon = theme.ContentCopyIcon()
	openButton := newButton("Open in browser", widget.MediumImportance, func() {
		if err := a.openURI(ev.URI); err != nil {
			status.Importance = widget.DangerImportance
			status.SetText("The browser could not be opened (" + err.Error() + "). Copy the address and open it in a browser yourself.")
			status.Show()
		}
	}, a.CancelSignIn)
	openButton.Icon = theme.ComputerIcon()

	what := container.NewVBox(address, container.NewHBox(copyButton, openButton), status)
	if ev.Opened {
		what.Objects = append([]fyne.CanvasObject{wrapped(GrantApproveAddress, widget.MediumImportance)}, what.Objects...)
	}
	a.showApproveScreen(GrantApproveTitle, help, what, nil, nil)
}

// showGrantDone says which device is signed in, and whether it got the
// account's keys.
func (a *App) showGrantDone(ev signin.GrantDone) {
	title := heading("Signed in: " + ev.DeviceID)
	user := widget.NewLabelWithStyle(ev.UserID, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	user.Selectable = true
	device := widget.NewLabel(ev.DeviceID)
	device.Selectable = true

	keys := "Not sent: this account is not verified on this computer. Verify the new device from another device of yours to read encrypted messages there."
	if ev.KeysNotSent == signin.WarningStoredKeysDamaged {
		keys = "Not sent: the encryption keys stored for this account on this computer cannot be read. Verify the new device from another device of yours to read encrypted messages there."
	}
	if ev.SecretsSent {
		keys = "Sent: the new device can verify itself and read your encrypted messages."
		if a.state.secretsKnown && a.state.backup {
			keys = "Sent, with your key backup: the new device can verify itself and read your encrypted messages, older ones too."
		}
	}
	facts := widget.NewForm(
		widget.NewFormItem("Account", user),
		widget.NewFormItem("New device", device),
		widget.NewFormItem("Encryption keys", wrapped(keys, widget.MediumImportance)),
	)
	done := newButton("Done", widget.HighImportance, a.ShowAccounts, a.ShowAccounts)
	a.showDoneScreen(title, facts, done)
}
