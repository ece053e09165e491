package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/qrcode"
)

// The QR screen's words. The steps name the exact menu path on the phone
// (WhatsApp, Signal and Firefox all number them: docs/design-notes.md "QR
// screen steps"), and the warning is Element X's own: the check code stops a
// code that was passed on, but only if people never scan one.
const (
	QRTitle    = "Scan this code with your phone"
	QRWarning  = "Only scan this code after following the steps above on your own phone. Never scan a code that someone sent you."
	SwitchLink = "My phone can't read this code"
)

// QRSteps are the numbered steps beside the code.
var QRSteps = []string{
	"Open the Matrix app on your phone. It must be able to link a desktop by QR code, as Element X can.",
	"In Element X: Settings → Link new device → Link desktop computer (where your app offers it).",
	"Point your phone's camera at this code.",
	"Type the two digits your phone then shows into this window.",
}

// qrScreen is the QR screen's state while it shows.
type qrScreen struct {
	image     *qrImage
	countdown *countdown
	switchTo  *link
	problem   *widget.Label
}

// showQR shows a fresh code with the steps, the warning and the countdown,
// in the words of a sign-in or a grant (words.go).
func (a *App) showQR(ev login.QRReady) {
	s := &qrScreen{}
	m, err := qrcode.NewMatrix(ev.Payload)
	s.image = newQRImage(m)
	s.problem = wrapped("", widget.DangerImportance)
	s.problem.Hide()
	if err != nil {
		s.showProblem(err)
	}

	steps := container.NewVBox()
	for i, step := range a.words.qrSteps {
		number := widget.NewLabelWithStyle(string(rune('1'+i))+".", fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
		steps.Add(container.NewBorder(nil, nil, container.NewVBox(number), nil, wrapped(step, widget.MediumImportance)))
	}
	// Bold foreground, not the theme's warning colour: yellow on the light
	// theme is hard to read (TestThemeTextContrast).
	warning := wrapped(a.words.qrWarning, widget.MediumImportance)
	warning.TextStyle = fyne.TextStyle{Bold: true}
	warningRow := container.NewBorder(nil, nil, container.NewVBox(widget.NewIcon(theme.WarningIcon())), nil, warning)

	s.countdown = a.newCountdown(ev.ExpiresAt, func(left string) string {
		return "This code expires in " + left + ". A new one appears by itself."
	})

	s.switchTo = newLink(a.words.switchLink, func() {
		if a.ctrl != nil {
			a.ctrl.SwitchGeneration()
		}
	}, a.CancelSignIn)

	cancel := newButton("Cancel", widget.MediumImportance, a.CancelSignIn, a.CancelSignIn)
	cancel.Icon = theme.CancelIcon()

	side := container.NewVBox(heading(a.words.qrTitle), steps, warningRow, s.countdown.label, s.problem, container.NewHBox(s.switchTo))
	content := container.NewBorder(nil, container.NewHBox(cancel), nil, nil,
		container.New(qrSplit{}, s.image.raster, container.NewVScroll(side)))
	s.setAlternative(ev.Alternative)

	a.qr = s
	a.show(&view{
		name:     "qr",
		content:  content,
		onEscape: a.CancelSignIn,
		stop: func() {
			s.countdown.stop()
			if a.qr == s {
				a.qr = nil
			}
		},
	})
}

// replace swaps in a fresh code: no error, no click (docs/design-notes.md
// "QR refresh").
func (s *qrScreen) replace(ev login.QRReady) {
	m, err := qrcode.NewMatrix(ev.Payload)
	if err != nil {
		s.showProblem(err)
		return
	}
	s.problem.Hide()
	s.image.set(m)
	s.countdown.reset(ev.ExpiresAt)
	s.setAlternative(ev.Alternative)
}

// setAlternative shows the switch link only when the server offers the
// other generation.
func (s *qrScreen) setAlternative(alternative string) {
	if alternative == "" {
		s.switchTo.Hide()
	} else {
		s.switchTo.Show()
	}
}

// showProblem reports a code that cannot be drawn (a payload too large for
// a QR code); it cannot happen with the payloads the flow makes.
func (s *qrScreen) showProblem(err error) {
	s.problem.SetText("This code cannot be shown: " + err.Error())
	s.problem.Show()
}
