package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"

	"github.com/qrlogin/qrlogin/app/accounts"
	"github.com/qrlogin/qrlogin/app/config"
	"github.com/qrlogin/qrlogin/app/signin"
	"github.com/qrlogin/qrlogin/protocol/qrcode"
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
	out := newEventPrinter(stdio, *asJSON, qrcode.TerminalOptions{Invert: *invert}, signInWords)
	ctrl := signin.Start(ctx, cfg, store, out.event)
	out.attach(ctrl)
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

// reportFailure prints an error before a sign-in started.
func reportFailure(stdio Stdio, asJSON bool, err error) int {
	x := explainForTerminal(err)
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
