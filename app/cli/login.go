package cli

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/qrlogin/qrlogin/app/accounts"
	"github.com/qrlogin/qrlogin/app/config"
	"github.com/qrlogin/qrlogin/app/explain"
	"github.com/qrlogin/qrlogin/app/signin"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/qrcode"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
)

func init() {
	Register(Command{
		Name:    "login",
		Summary: "sign this computer in by QR code (--headless for the terminal, --json for programs)",
		Run:     runLogin,
	})
}

// loginStoreOpener opens the account store; tests replace it.
var loginStoreOpener = func() (signin.Store, error) { return accounts.Open() }

func runLogin(ctx context.Context, args []string, stdio Stdio, fe FrontEnds) int {
	fs := flag.NewFlagSet("login", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	headless := fs.Bool("headless", false, "run in the terminal: draw the QR code there and ask for the check code")
	asJSON := fs.Bool("json", false, "with --headless: print one JSON event per line on stdout (read the check code from stdin)")
	homeserver := fs.String("homeserver", "", "the server to sign in to: a server name (example.org) or a base URL")
	rendezvousServer := fs.String("rendezvous-server", "", "create the sign-in session on this server instead of the homeserver")
	protocol := fs.String("protocol", "", "auto, msc4388 or msc4108-2024 (default: the setting, else auto)")
	variant := fs.String("msc4388-variant", "", "reference or msc-text (default: the setting, else reference)")
	invert := fs.Bool("qr-invert", false, "draw the terminal QR code for dark text on a light background")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stdio.Err, "login: unexpected argument %q\n", fs.Arg(0))
		return ExitUsage
	}
	if !*headless {
		if *asJSON || *protocol != "" || *variant != "" || *rendezvousServer != "" || *invert {
			fmt.Fprintln(stdio.Err, "login: --json, --protocol, --msc4388-variant, --rendezvous-server and --qr-invert need --headless")
			return ExitUsage
		}
		if *homeserver != "" && fe.SignIn != nil {
			return fe.SignIn(*homeserver)
		}
		if fe.Window == nil {
			fmt.Fprintln(stdio.Err, "login: this build has no desktop window; use --headless")
			return ExitUsage
		}
		return fe.Window()
	}
	settings, err := config.Load()
	if err != nil {
		fmt.Fprintf(stdio.Err, "login: %v (using the defaults)\n", err)
	}
	if *protocol != "" {
		settings.Protocol = *protocol
	}
	if *variant != "" {
		settings.MSC4388Variant = *variant
	}
	if *rendezvousServer != "" {
		settings.RendezvousServer = *rendezvousServer
	}
	if err := settings.Validate(); err != nil {
		fmt.Fprintf(stdio.Err, "login: %v\n", err)
		return ExitUsage
	}
	hs := *homeserver
	if hs == "" {
		hs = settings.LastHomeserver
	}
	if hs == "" {
		fmt.Fprintln(stdio.Err, "login: --homeserver is required (no homeserver is configured yet)")
		fs.Usage()
		return ExitUsage
	}
	store, err := loginStoreOpener()
	if err != nil {
		return reportFailure(stdio, *asJSON, err)
	}
	cfg := signin.WithClientIDCache(signin.FlowConfig(settings, hs))
	out := &loginPrinter{stdio: stdio, json: *asJSON, in: bufio.NewReader(stdio.In),
		qr: qrcode.TerminalOptions{Invert: *invert}, ready: make(chan struct{})}
	ctrl := signin.Start(ctx, cfg, store, out.event)
	out.ctrl = ctrl
	close(out.ready)
	_, err = ctrl.Wait()
	if err != nil {
		return ExitFail
	}
	// Remember the homeserver only: --protocol, --msc4388-variant and
	// --rendezvous-server are for this run, not new settings (saving them
	// made a one-off flag stick to every later sign-in; found by the e2e
	// tests, where it broke the next run against a server without that API).
	saved, _ := config.Load()
	saved.LastHomeserver = hs
	_ = config.Save(saved)
	return ExitOK
}

// checkCodeTaker is what the check-code prompt needs of the sign-in;
// *signin.Controller satisfies it.
type checkCodeTaker interface {
	SubmitCheckCode(code string) bool
	Cancel()
}

// loginPrinter shows a sign-in's events in the terminal: as words and a
// QR code drawn with half blocks, or as one JSON object per line.
type loginPrinter struct {
	stdio  Stdio
	json   bool
	in     *bufio.Reader
	qr     qrcode.TerminalOptions
	ctrl   checkCodeTaker // set once, before ready is closed
	ready  chan struct{}
	mu     sync.Mutex
	asking bool // the flow waits for the check code (guarded by mu)
}

func (p *loginPrinter) event(ev login.Event) {
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
	case login.SecureChannelEstablished, login.Failed, login.Done:
		p.asking = false
	}
}

// readCheckCode reads lines until one can be a check code and hands it to
// the flow. A line that cannot be one (securechannel.ParseCheckCode, the
// parser the window uses too) is explained and the question asked again;
// the attempt goes on.
func (p *loginPrinter) readCheckCode() {
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
					return // the sign-in no longer waits for a code
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

// askAgain says why a typed line is not a check code, in the words of the
// error table, and asks again: in --json a warning (code
// check_code_malformed) and a fresh check_code_needed. It reports false
// when the flow no longer waits for a code.
func (p *loginPrinter) askAgain(err error) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.asking {
		return false
	}
	x := explain.Error(err)
	if p.json {
		p.writeJSON(login.Warning{Code: x.Code, Message: x.Message + " " + x.Next})
		p.writeJSON(login.CheckCodeNeeded{})
		return true
	}
	fmt.Fprintf(p.stdio.Err, "%s %s\n", x.Message, x.Next)
	p.writeHuman(login.CheckCodeNeeded{})
	return true
}

// jsonLine keeps field order stable: "event" first.
func (p *loginPrinter) writeJSON(ev login.Event) {
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
	case login.Warning:
		v = struct {
			Event   string `json:"event"`
			Code    string `json:"code"`
			Message string `json:"message"`
		}{e.Name(), e.Code, e.Message}
	case login.Done:
		v = struct {
			Event    string `json:"event"`
			UserID   string `json:"user_id"`
			DeviceID string `json:"device_id"`
			Verified bool   `json:"verified"`
		}{e.Name(), e.UserID, e.DeviceID, e.Verified}
	case login.Failed:
		x := explainForTerminal(e.Err)
		v = struct {
			Event   string `json:"event"`
			Code    string `json:"code"`
			Message string `json:"message"`
			Detail  string `json:"detail,omitempty"`
		}{e.Name(), x.Code, x.Message + " " + x.Next, x.Detail}
	default:
		v = struct {
			Event string `json:"event"`
		}{ev.Name()}
	}
	b, _ := json.Marshal(v)
	fmt.Fprintf(p.stdio.Out, "%s\n", b)
}

func (p *loginPrinter) writeHuman(ev login.Event) {
	w := p.stdio.Out
	switch e := ev.(type) {
	case login.QRReady:
		p.drawQR(w, e)
		fmt.Fprintln(w, "Scan this code with the Matrix app on your phone (in Element X: Settings → Link new device).")
		fmt.Fprintln(w, "Never scan a code that someone sent you.")
		fmt.Fprintf(w, "The code is valid for %s; a new one appears if it runs out.\n", time.Until(e.ExpiresAt).Round(time.Second))
	case login.CheckCodeNeeded:
		fmt.Fprint(w, "Enter the code shown on your phone: ")
	case login.SecureChannelEstablished:
		fmt.Fprintln(w, "Connected securely to your phone.")
	case login.Homeserver:
		fmt.Fprintf(w, "Signing in to %s.\n", e.BaseURL)
	case login.UserCode:
		fmt.Fprintf(w, "Approve the sign-in on your phone. If it asks for a code, enter: %s\n", e.UserCode)
	case login.LoggedIn:
		fmt.Fprintf(w, "Signed in as %s (device %s). Setting up encryption…\n", e.UserID, e.DeviceID)
	case login.Secrets:
		fmt.Fprintf(w, "Encryption keys received: cross-signing %s, key backup %s.\n", yesNo(e.CrossSigning), yesNo(e.Backup))
	case login.Warning:
		fmt.Fprintf(p.stdio.Err, "Warning: %s\n", e.Message)
	case login.Done:
		verified := "not verified"
		if e.Verified {
			verified = "verified"
		}
		fmt.Fprintf(w, "Done: %s is signed in on this computer as device %s (%s).\n", e.UserID, e.DeviceID, verified)
	case login.Failed:
		x := explainForTerminal(e.Err)
		fmt.Fprintf(p.stdio.Err, "%s %s\n(%s)\n", x.Message, x.Next, x.Detail)
	}
}

// explainForTerminal is the error table's explanation with the terminal's
// way to act on it: after a homeserver mismatch, the --homeserver flag that
// signs in to the phone's server instead.
func explainForTerminal(err error) explain.Explanation {
	x := explain.Error(err)
	if server, ok := signin.PhoneHomeserver(err); ok {
		x.Next = fmt.Sprintf("To sign in to %s instead, run the sign-in again with --homeserver %s.", server, server)
	}
	return x
}

func (p *loginPrinter) drawQR(w io.Writer, e login.QRReady) {
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

// reportFailure prints an error before a sign-in started.
func reportFailure(stdio Stdio, asJSON bool, err error) int {
	x := explain.Error(err)
	if asJSON {
		b, _ := json.Marshal(struct {
			Event   string `json:"event"`
			Code    string `json:"code"`
			Message string `json:"message"`
		}{"error", x.Code, x.Message + " " + x.Next})
		fmt.Fprintf(stdio.Out, "%s\n", b)
	} else {
		fmt.Fprintf(stdio.Err, "%s %s\n(%s)\n", x.Message, x.Next, x.Detail)
	}
	return ExitFail
}
