package demo

import (
	"context"
	"errors"
	"fmt"

	"fyne.io/fyne/v2"

	"github.com/qrlogin/qrlogin/internal/phone"
)

// "Sign in another device" in the demo: the QR Login window signs in a new
// device with the demo account. The pretend phone plays that new device
// (it scans the code, shows the check code and the code for the approval
// page), and its window also plays the computer's browser, where the new
// device is approved: the demo never opens a real browser.

// runAsNewDevice plays the new device that scanned qr (internal/phone's
// scripted new device) for one scan, until it is signed in or the attempt
// ends. Consent is left to the person: they approve in the pretend browser
// (Phone.OpenApprovalPage).
func (p *Phone) runAsNewDevice(attempt int, qr []byte) {
	ctx, cancel := context.WithCancel(p.ctx)
	defer cancel()
	_, err := phone.RunNewDevice(ctx, phone.NewDeviceConfig{
		OnCheckCode: func(code string) {
			fyne.Do(func() { p.showCheckCode(attempt, code) })
		},
		OnProtocolSent: func(sent phone.ProtocolSent) {
			fyne.Do(func() {
				if attempt != p.attempts || !p.running {
					return
				}
				p.code.Text = ""
				p.userCode.SetText("Code for the approval page: " + sent.UserCode)
				p.setStatus(PhoneGrantWaiting)
				p.refresh()
			})
		},
	}, qr)
	fyne.Do(func() { p.finished(attempt, err) })
}

// OpenApprovalPage is the demo's browser for "Sign in another device": the
// grant calls it (login.GrantConfig.OpenURI) with the page where the new
// device is approved, and the phone window shows that page's question with
// Approve and Deny. It may be called from any goroutine.
func (p *Phone) OpenApprovalPage(uri string) error {
	if uri == "" {
		return errors.New("demo: no approval page")
	}
	fyne.Do(func() {
		attempt := p.attempts
		ctx, cancel := context.WithTimeout(p.ctx, DeviceCodeLifetime)
		go func() {
			defer cancel()
			code, err := p.srv.WaitForUserCode(ctx)
			if err != nil {
				return // the attempt ended first
			}
			fyne.Do(func() {
				if attempt != p.attempts {
					return
				}
				p.pending = code
				p.grant = true
				p.setStatus(fmt.Sprintf(PhoneBrowserConsent, p.srv.UserID()))
				p.refresh()
			})
		}()
	})
	return nil
}
