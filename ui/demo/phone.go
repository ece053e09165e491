package demo

import (
	"context"
	"errors"
	"fmt"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/qrlogin/qrlogin/app/signin"
	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/internal/phone"
	"github.com/qrlogin/qrlogin/protocol/login"
)

// PhoneTitle is the phone window's title.
const PhoneTitle = "Demo phone"

// Texts the phone shows, one per stage (exported for tests).
const (
	PhoneWaiting   = "Waiting for a QR code. Press \"Sign in with QR code\" in the QR Login window, or, once it is signed in, \"Sign in another device\" under Accounts."
	PhoneCodeReady = "The QR Login window shows a code. Scan it with this phone."
	PhoneScanning  = "Connecting securely to the computer…"
	PhoneCheckCode = "Type this code in the QR Login window:"
	PhoneConsent   = "Your account's sign-in page asks: allow QR Login on this computer to sign in as %s?"
	PhoneFinishing = "Approved. Sharing your encryption keys with the computer…"
	PhoneDone      = "Done: the computer is signed in and verified. You can close both windows."
	PhoneDenied    = "You denied the sign-in. The computer was told."
)

// Texts of "Sign in another device", where this pretend phone plays the
// new device and its window also plays the computer's browser.
const (
	PhoneGrantCodeReady = "The QR Login window shows a code to sign a new device in. Scan it: this pretend phone is the new device."
	PhoneGrantWaiting   = "Waiting to be approved in the computer's browser."
	PhoneBrowserConsent = "Pretend browser on the computer: the approval page asks: allow the new device to sign in as %s?"
	PhoneGrantApproved  = "Approved in the browser. The new device is finishing its sign-in…"
	PhoneGrantDenied    = "You denied the new device in the browser."
	PhoneGrantDone      = "Done: this pretend new device is signed in. You can close both windows."
)

// Phone is the pretend phone's screen. It scans the QR code the desktop
// shows (the payload comes straight from the desktop's QRReady event, the
// same bytes the picture encodes), runs the existing device's side of the
// sign-in with internal/phone, shows the check code to type, and lets the
// user approve or deny on the dev server's consent page.
//
// Its methods must be called on the UI goroutine, except DesktopEvent.
type Phone struct {
	ctx context.Context
	srv *devserver.Server

	account  *widget.Label
	status   *widget.Label
	code     *canvas.Text
	userCode *widget.Label
	scan     *widget.Button
	approve  *widget.Button
	deny     *widget.Button
	content  fyne.CanvasObject

	payload  []byte // the QR code showing on the desktop, nil if none
	grant    bool   // that code signs a new device in: this phone plays it
	running  bool   // a scan is in progress
	pending  string // the user code awaiting consent
	attempts int    // numbers scans, so a finished one cannot touch a newer one

	changed func() // called on the UI goroutine after every change (tests)
}

// NewPhone builds the phone's screen for the demo server srv; ctx ends
// any scan in progress.
func NewPhone(ctx context.Context, srv *devserver.Server) *Phone {
	p := &Phone{ctx: ctx, srv: srv}
	p.status = widget.NewLabel(PhoneWaiting)
	p.status.Wrapping = fyne.TextWrapWord
	p.code = canvas.NewText("", theme.Color(theme.ColorNameForeground))
	p.code.TextSize = 48
	p.code.TextStyle = fyne.TextStyle{Bold: true, Monospace: true}
	p.code.Alignment = fyne.TextAlignCenter
	p.userCode = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Monospace: true})
	p.scan = widget.NewButtonWithIcon("Scan the QR code", theme.SearchIcon(), p.Scan)
	p.scan.Importance = widget.HighImportance
	p.approve = widget.NewButtonWithIcon("Approve", theme.ConfirmIcon(), func() { p.decide(true) })
	p.approve.Importance = widget.SuccessImportance
	p.deny = widget.NewButtonWithIcon("Deny", theme.CancelIcon(), func() { p.decide(false) })
	p.deny.Importance = widget.DangerImportance

	heading := widget.NewLabelWithStyle("Pretend phone (demo)", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.account = widget.NewLabel("")
	p.account.Wrapping = fyne.TextWrapWord
	p.content = container.NewVBox(
		heading, p.account, widget.NewSeparator(),
		p.status, p.code, p.userCode,
		p.scan, container.NewGridWithColumns(2, p.deny, p.approve),
	)
	p.refresh()
	return p
}

// Content is the phone window's content.
func (p *Phone) Content() fyne.CanvasObject { return p.content }

// Status is the sentence the phone shows (for tests).
func (p *Phone) Status() string { return p.status.Text }

// CheckCode is the check code the phone shows, "" when none (for tests).
func (p *Phone) CheckCode() string { return p.code.Text }

// CanScan, CanDecide report which buttons are enabled (for tests).
func (p *Phone) CanScan() bool   { return !p.scan.Disabled() }
func (p *Phone) CanDecide() bool { return !p.approve.Disabled() }

// DesktopEvent tells the phone what the desktop shows; it may be called
// from any goroutine. A QR code is what the phone can scan; when the
// desktop's sign-in ends, an unscanned code is gone.
func (p *Phone) DesktopEvent(ev login.Event) { p.desktopEvent(ev, false) }

// GrantEvent is DesktopEvent for "Sign in another device": the code on
// the desktop is for a new device, which this phone then plays.
func (p *Phone) GrantEvent(ev login.Event) { p.desktopEvent(ev, true) }

func (p *Phone) desktopEvent(ev login.Event, grant bool) {
	switch e := ev.(type) {
	case login.QRReady:
		payload := append([]byte(nil), e.Payload...)
		fyne.Do(func() {
			p.payload = payload
			if !p.running {
				p.grant = grant
				p.setStatus(PhoneCodeReady)
				if grant {
					p.setStatus(PhoneGrantCodeReady)
				}
			}
			p.refresh()
		})
	case login.Done, signin.GrantDone, login.Failed:
		fyne.Do(func() {
			p.payload = nil
			if p.status.Text == PhoneCodeReady || p.status.Text == PhoneGrantCodeReady { // unscanned: the code is gone
				p.setStatus(PhoneWaiting)
			}
			p.refresh()
		})
	}
}

// Scan "scans" the QR code on the desktop and runs the phone's side of the
// sign-in in the background.
func (p *Phone) Scan() {
	if p.payload == nil || p.running {
		return
	}
	qr := p.payload
	p.running = true
	p.attempts++
	attempt := p.attempts
	p.code.Text = ""
	p.userCode.SetText("")
	p.setStatus(PhoneScanning)
	p.refresh()
	if p.grant {
		go p.runAsNewDevice(attempt, qr)
		return
	}
	go p.run(attempt, qr)
}

// run plays the phone. The consent step is left to the user's Approve or
// Deny (SilentAt StepConsent: the phone only listens there), which reach
// the dev server's consent page through Approve/Deny.
func (p *Phone) run(attempt int, qr []byte) {
	ctx, cancel := context.WithCancel(p.ctx)
	defer cancel()
	cfg := phone.Config{
		Homeserver: p.srv,
		Script:     phone.Script{SilentAt: phone.StepConsent},
		OnCheckCode: func(code string) {
			fyne.Do(func() { p.showCheckCode(attempt, code) })
			go p.awaitConsent(ctx, attempt)
		},
	}
	_, err := phone.Run(ctx, cfg, qr)
	fyne.Do(func() { p.finished(attempt, err) })
}

// awaitConsent waits until the desktop has asked the server for a device
// code, which is when its sign-in page can be opened.
func (p *Phone) awaitConsent(ctx context.Context, attempt int) {
	code, err := p.srv.WaitForUserCode(ctx)
	if err != nil {
		return // the scan ended first
	}
	fyne.Do(func() {
		if attempt != p.attempts || !p.running {
			return
		}
		p.pending = code
		p.code.Text = ""
		p.userCode.SetText("Code on the computer: " + code)
		p.setStatus(fmt.Sprintf(PhoneConsent, p.srv.UserID()))
		p.refresh()
	})
}

func (p *Phone) showCheckCode(attempt int, code string) {
	if attempt != p.attempts {
		return
	}
	p.code.Text = code
	p.setStatus(PhoneCheckCode)
	p.refresh()
}

// decide submits the consent page's answer.
func (p *Phone) decide(approve bool) {
	code := p.pending
	if code == "" {
		return
	}
	p.pending = ""
	p.userCode.SetText("")
	var err error
	finishing, denied := PhoneFinishing, PhoneDenied
	if p.grant {
		finishing, denied = PhoneGrantApproved, PhoneGrantDenied
	}
	if approve {
		err = p.srv.Approve(code)
		p.setStatus(finishing)
	} else {
		err = p.srv.Deny(code)
		p.setStatus(denied)
	}
	if err != nil {
		p.setStatus("The sign-in page answered: " + err.Error())
	}
	p.refresh()
}

func (p *Phone) finished(attempt int, err error) {
	if attempt != p.attempts {
		return
	}
	p.running = false
	p.pending = ""
	p.code.Text = ""
	p.userCode.SetText("")
	var peer *phone.PeerFailure
	switch {
	case err == nil && p.grant:
		p.setStatus(PhoneGrantDone)
	case err == nil:
		p.setStatus(PhoneDone)
	case p.status.Text == PhoneDenied, p.status.Text == PhoneGrantDenied:
		// Keep saying so; the desktop's answer to a denial is expected.
	case errors.As(err, &peer):
		p.setStatus("The computer stopped the sign-in (" + peer.Error() + "). Scan a new code to try again.")
	default:
		p.setStatus("The sign-in stopped: " + err.Error() + ". Scan a new code to try again.")
	}
	p.refresh()
}

func (p *Phone) setStatus(s string) { p.status.SetText(s) }

// refresh enables the buttons that make sense now.
func (p *Phone) refresh() {
	if p.grant {
		p.account.SetText("A new device, not signed in yet. Once the computer's browser approves it, it is signed in as " + p.srv.UserID() + ".")
	} else {
		p.account.SetText("Signed in as " + p.srv.UserID() + " on the demo server.")
	}
	if p.changed != nil {
		defer p.changed()
	}
	setEnabled(p.scan, p.payload != nil && !p.running)
	setEnabled(p.approve, p.pending != "")
	setEnabled(p.deny, p.pending != "")
	p.code.Color = theme.Color(theme.ColorNameForeground)
	p.code.Refresh()
}

func setEnabled(b *widget.Button, on bool) {
	if on {
		b.Enable()
	} else {
		b.Disable()
	}
}

// Banner is the strip the demo's desktop window shows on top, so nobody
// takes the demo for a real sign-in.
func Banner() fyne.CanvasObject {
	text := widget.NewLabel("Demo: a pretend server on this computer and a pretend phone in the other window. Nothing is saved to your accounts.")
	text.Wrapping = fyne.TextWrapWord
	text.Importance = widget.WarningImportance
	bg := canvas.NewRectangle(color.Transparent)
	return container.NewStack(bg, container.NewBorder(nil, nil, widget.NewIcon(theme.InfoIcon()), nil, text))
}
