package cli

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/qrlogin/qrlogin/app/explain"
	"github.com/qrlogin/qrlogin/app/signin"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/qrcode"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
)

// checkCodeTaker is what the check-code prompt needs of a running sign-in
// or grant; *signin.Controller and *signin.GrantController satisfy it.
type checkCodeTaker interface {
	SubmitCheckCode(code string) bool
	Cancel()
}

// terminalWords are the sentences that depend on which device shows the
// QR code and which one is signed in: `login` signs this computer in with
// a phone, `grant` signs a new device in from this computer.
type terminalWords struct {
	scan             []string // under the QR code
	checkCode        string   // the prompt, without a line break
	checkCodeInvalid string   // a typed line that cannot be a check code (check_code_malformed)
	connected        string   // the check code matched
}

var signInWords = terminalWords{
	scan: []string{
		"Scan this code with the Matrix app on your phone (in Element X: Settings → Link new device).",
		"Never scan a code that someone sent you.",
	},
	checkCode:        "Enter the code shown on your phone: ",
	checkCodeInvalid: explain.Error(securechannel.ErrCheckCodeFormat).Sentence(),
	connected:        "Connected securely to your phone.",
}

var grantWords = terminalWords{
	scan: []string{
		"Scan this code with the new device: in its Matrix app, choose to sign in with a QR code.",
		"Never show this code to anyone else: whoever scans it can ask to sign in to your account.",
	},
	checkCode:        "Type the code the new device shows: ",
	checkCodeInvalid: explain.Error(&signin.GrantError{Err: securechannel.ErrCheckCodeFormat}).Sentence(),
	connected:        "Connected securely to the new device.",
}

// eventPrinter shows the events of a sign-in or a grant in the terminal:
// as words and a QR code drawn with half blocks, or as one JSON object per
// line whose "event" is the event's Name (a stable contract, README).
type eventPrinter struct {
	stdio Stdio
	json  bool
	in    *bufio.Reader
	qr    qrcode.TerminalOptions
	words terminalWords
	ctrl  checkCodeTaker // set once, before ready is closed
	ready chan struct{}
	mu    sync.Mutex
	// asking is true while the flow waits for the check code (guarded by mu).
	asking bool
}

func newEventPrinter(stdio Stdio, asJSON bool, qr qrcode.TerminalOptions, words terminalWords) *eventPrinter {
	return &eventPrinter{stdio: stdio, json: asJSON, in: bufio.NewReader(stdio.In), qr: qr, words: words, ready: make(chan struct{})}
}

// attach hands the printer the sign-in whose check code it reads; events
// may arrive before, the prompt waits for it.
func (p *eventPrinter) attach(ctrl checkCodeTaker) {
	p.ctrl = ctrl
	close(p.ready)
}

func (p *eventPrinter) event(ev login.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		p.writeJSON(ev)
	} else {
		p.writeHuman(ev)
	}
	switch ev.(type) {
	case login.CheckCodeNeeded:
		p.asking = true
		go p.readCheckCode()
	case login.SecureChannelEstablished, login.Failed:
		p.asking = false
	}
}

// readCheckCode reads lines until one can be a check code and hands it to
// the flow. A line that cannot be one (securechannel.ParseCheckCode, the
// parser the window uses too) is explained and the question asked again;
// the attempt goes on.
func (p *eventPrinter) readCheckCode() {
	for {
		line, err := p.in.ReadString('\n')
		code := strings.TrimSpace(line)
		<-p.ready
		if code != "" {
			_, perr := securechannel.ParseCheckCode(code)
			switch {
			case perr == nil:
				p.ctrl.SubmitCheckCode(code)
				return
			case err == nil: // more lines may come
				if !p.askAgain(perr) {
					return // the flow no longer waits for a code
				}
				continue
			}
		}
		if err != nil {
			p.ctrl.Cancel() // stdin closed: nobody can type the code, give up cleanly
			return
		}
	}
}

// askAgain says why a typed line is not a check code, in the command's
// words, and asks again: in --json a warning (code check_code_malformed,
// the error table's) and a fresh check_code_needed. It reports false when
// the flow no longer waits for a code.
func (p *eventPrinter) askAgain(err error) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.asking {
		return false
	}
	code, words := explain.Error(err).Code, p.words.checkCodeInvalid
	if p.json {
		p.writeJSON(login.Warning{Code: code, Message: words})
		p.writeJSON(login.CheckCodeNeeded{})
		return true
	}
	fmt.Fprintln(p.stdio.Err, words)
	p.writeHuman(login.CheckCodeNeeded{})
	return true
}

// writeJSON writes one line per event; structs keep the field order
// stable, "event" first.
func (p *eventPrinter) writeJSON(ev login.Event) {
	var v any
	switch e := ev.(type) {
	case login.QRReady:
		v = struct {
			Event       string `json:"event"`
			Protocol    string `json:"protocol"`
			Data        string `json:"data"`
			ExpiresInMS int64  `json:"expires_in_ms"`
		}{e.Name(), e.Protocol, base64.StdEncoding.EncodeToString(e.Payload), time.Until(e.ExpiresAt).Milliseconds()}
		p.drawQR(p.stdio.Err, e)
	case login.CheckCodeNeeded, login.SecureChannelEstablished:
		v = struct {
			Event string `json:"event"`
		}{ev.Name()}
	case login.Homeserver:
		v = struct {
			Event   string `json:"event"`
			BaseURL string `json:"base_url"`
		}{e.Name(), e.BaseURL}
	case login.UserCode:
		v = struct {
			Event           string `json:"event"`
			UserCode        string `json:"user_code"`
			VerificationURI string `json:"verification_uri"`
		}{e.Name(), e.UserCode, e.VerificationURI}
	case login.LoggedIn:
		v = struct {
			Event    string `json:"event"`
			UserID   string `json:"user_id"`
			DeviceID string `json:"device_id"`
		}{e.Name(), e.UserID, e.DeviceID}
	case login.Secrets:
		v = struct {
			Event        string `json:"event"`
			CrossSigning bool   `json:"cross_signing"`
			Backup       bool   `json:"backup"`
		}{e.Name(), e.CrossSigning, e.Backup}
	case login.VerificationURI:
		v = struct {
			Event  string `json:"event"`
			URI    string `json:"uri"`
			Opened bool   `json:"opened"`
		}{e.Name(), e.URI, e.Opened}
	case login.NewDeviceSignedIn:
		v = struct {
			Event    string `json:"event"`
			DeviceID string `json:"device_id"`
		}{e.Name(), e.DeviceID}
	case login.SecretsShared:
		v = struct {
			Event        string `json:"event"`
			CrossSigning bool   `json:"cross_signing"`
			Backup       bool   `json:"backup"`
		}{e.Name(), e.CrossSigning, e.Backup}
	case login.Warning:
		v = struct {
			Event   string `json:"event"`
			Code    string `json:"code"`
			Message string `json:"message"`
		}{e.Name(), e.Code, explain.Warning(e).Sentence()}
	case login.Done:
		v = struct {
			Event    string `json:"event"`
			UserID   string `json:"user_id"`
			DeviceID string `json:"device_id"`
			Verified bool   `json:"verified"`
		}{e.Name(), e.UserID, e.DeviceID, e.Verified}
	case signin.GrantDone:
		v = struct {
			Event       string `json:"event"`
			UserID      string `json:"user_id"`
			DeviceID    string `json:"device_id"`
			SecretsSent bool   `json:"secrets_sent"`
			KeysNotSent string `json:"keys_not_sent,omitempty"`
		}{e.Name(), e.UserID, e.DeviceID, e.SecretsSent, e.KeysNotSent}
	case login.Failed:
		x := explainForTerminal(e.Err)
		v = struct {
			Event   string `json:"event"`
			Code    string `json:"code"`
			Message string `json:"message"`
			Detail  string `json:"detail,omitempty"`
		}{e.Name(), x.Code, x.Sentence(), x.Detail}
	default:
		v = struct {
			Event string `json:"event"`
		}{ev.Name()}
	}
	b, _ := json.Marshal(v)
	fmt.Fprintf(p.stdio.Out, "%s\n", b)
}

func (p *eventPrinter) writeHuman(ev login.Event) {
	w := p.stdio.Out
	switch e := ev.(type) {
	case login.QRReady:
		p.drawQR(w, e)
		for _, line := range p.words.scan {
			fmt.Fprintln(w, line)
		}
		fmt.Fprintf(w, "The code is valid for %s; a new one appears if it runs out.\n", time.Until(e.ExpiresAt).Round(time.Second))
	case login.CheckCodeNeeded:
		fmt.Fprint(w, p.words.checkCode)
	case login.SecureChannelEstablished:
		fmt.Fprintln(w, p.words.connected)
	case login.Homeserver:
		fmt.Fprintf(w, "Signing in to %s.\n", e.BaseURL)
	case login.UserCode:
		fmt.Fprintf(w, "Approve the sign-in on your phone. If it asks for a code, enter: %s\n", e.UserCode)
	case login.LoggedIn:
		fmt.Fprintf(w, "Signed in as %s (device %s). Setting up encryption…\n", e.UserID, e.DeviceID)
	case login.Secrets:
		fmt.Fprintf(w, "Encryption keys received: cross-signing %s, key backup %s.\n", yesNo(e.CrossSigning), yesNo(e.Backup))
	case login.VerificationURI:
		if e.Opened {
			fmt.Fprintln(w, "Approve the new device in your browser: a page has opened; enter the code shown on the new device there. Its address:")
		} else {
			fmt.Fprintln(w, "Approve the new device in your browser: open this page, and enter the code shown on the new device there:")
		}
		fmt.Fprintf(w, "  %s\n", e.URI)
	case login.NewDeviceSignedIn:
		fmt.Fprintf(w, "The new device %s is signed in.\n", e.DeviceID)
	case login.SecretsShared:
		fmt.Fprintf(w, "Encryption keys sent to the new device: cross-signing %s, key backup %s.\n", yesNo(e.CrossSigning), yesNo(e.Backup))
	case login.Warning:
		fmt.Fprintf(p.stdio.Err, "Warning: %s\n", explain.Warning(e).Sentence())
	case login.Done:
		verified := "not verified"
		if e.Verified {
			verified = "verified"
		}
		fmt.Fprintf(w, "Done: %s is signed in on this computer as device %s (%s).\n", e.UserID, e.DeviceID, verified)
	case signin.GrantDone:
		keys := "its encryption keys were sent, so it can verify itself"
		switch {
		case e.SecretsSent:
		case e.KeysNotSent == signin.WarningStoredKeysDamaged:
			keys = "no encryption keys were sent, because the ones stored here cannot be read: verify it from another device"
		case e.KeysNotSent == login.WarningSecretsNotShared:
			keys = "no encryption keys were sent, because this account is not verified on this computer: verify it from another device"
		default:
			keys = "no encryption keys were sent: verify it from another device"
		}
		fmt.Fprintf(w, "Done: the new device %s is signed in to %s; %s.\n", e.DeviceID, e.UserID, keys)
	case login.Failed:
		x := explainForTerminal(e.Err)
		fmt.Fprintf(p.stdio.Err, "%s\n(%s)\n", x.Sentence(), x.Detail)
	}
}

// explainForTerminal is the error table's explanation with the terminal's
// way to act on it: after a homeserver mismatch, the --homeserver flag that
// signs in to the phone's server instead.
func explainForTerminal(err error) explain.Explanation {
	var several *severalAccountsError
	switch {
	case errors.Is(err, errNoAccount):
		return explain.Explanation{Code: explain.CodeAccountNotFound, Message: "No account is signed in on this computer.",
			Next: "Run `qrlogin login` to sign this computer in first.", Detail: err.Error()}
	case errors.As(err, &several):
		return explain.Explanation{Code: explain.CodeAccountNotChosen,
			Message: "Several accounts are signed in on this computer: " + strings.Join(several.users, ", ") + ".",
			Next:    "Choose one with --account.", Detail: err.Error()}
	}
	x := explain.Error(err)
	if server, ok := signin.PhoneHomeserver(err); ok {
		x.Next = fmt.Sprintf("To sign in to %s instead, run the sign-in again with --homeserver %s.", server, server)
	}
	return x
}

func (p *eventPrinter) drawQR(w io.Writer, e login.QRReady) {
	m, err := qrcode.NewMatrix(e.Payload)
	if err != nil {
		fmt.Fprintf(p.stdio.Err, "cannot draw the QR code: %v\n", err)
		return
	}
	_ = m.WriteTerminal(w, p.qr)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
