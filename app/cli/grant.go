package cli

import (
	"context"
	"flag"
	"fmt"
	"os/exec"
	"runtime"

	"github.com/qrlogin/qrlogin/app/config"
	"github.com/qrlogin/qrlogin/app/signin"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/qrcode"
)

func init() {
	Register(Command{
		Name:    "grant",
		Summary: "sign another device in with an account of this computer, by QR code [--account USER_ID] (--headless for the terminal)",
		Run:     runGrant,
	})
}

// grantRun is what the command needs of a running grant;
// *signin.GrantController satisfies it.
type grantRun interface {
	checkCodeTaker
	Wait() (*login.GrantResult, error)
}

// startGrant starts a grant; the command line's tests replace it to feed
// events of their choosing.
var startGrant = func(ctx context.Context, userID string, cfg login.GrantConfig, store signin.GrantStore, emit func(login.Event)) grantRun {
	return signin.StartGrant(ctx, userID, cfg, store, emit)
}

// openBrowser opens uri in the system browser (`grant --headless --open`).
// It does not wait for the opener: xdg-open and friends may stay until the
// browser exits, and the grant goes on meanwhile. Only an opener that cannot
// be started is a failure (unable_to_open_verification_uri); how it ends
// later is the browser's business. Tests replace it, or PATH: they must
// never start a browser.
var openBrowser = func(uri string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", uri)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", uri)
	default:
		cmd = exec.Command("xdg-open", uri)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }() // reap it whenever it ends
	return nil
}

func runGrant(ctx context.Context, args []string, stdio Stdio, fe FrontEnds) int {
	fs := flag.NewFlagSet("grant", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	headless := fs.Bool("headless", false, "run in the terminal: draw the QR code there, ask for the check code and print the approval page's address")
	asJSON := fs.Bool("json", false, "with --headless: print one JSON event per line on stdout (read the check code from stdin)")
	account := fs.String("account", "", "the account's user ID (needed when several are signed in)")
	protocol := fs.String("protocol", "", "auto, msc4388 or msc4108-2024 (default: the setting, else auto)")
	open := fs.Bool("open", false, "with --headless: also open the approval page in the system browser")
	invert := fs.Bool("qr-invert", false, "draw the terminal QR code for dark text on a light background")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stdio.Err, "grant: unexpected argument %q\n", fs.Arg(0))
		return ExitUsage
	}
	if !*headless {
		if *asJSON || *protocol != "" || *open || *invert {
			fmt.Fprintln(stdio.Err, "grant: --json, --protocol, --open and --qr-invert need --headless")
			return ExitUsage
		}
		if fe.Grant == nil {
			fmt.Fprintln(stdio.Err, "grant: this build has no desktop window; use --headless")
			return ExitUsage
		}
		_, user, code := openAccount("grant", stdio, *account)
		if code != ExitOK {
			return code
		}
		return fe.Grant(user)
	}
	settings, err := config.Load()
	if err != nil {
		fmt.Fprintf(stdio.Err, "grant: %v (using the defaults)\n", err)
	}
	if *protocol != "" {
		settings.Protocol = *protocol
	}
	if err := settings.Validate(); err != nil {
		fmt.Fprintf(stdio.Err, "grant: %v\n", err)
		return ExitUsage
	}
	// Failures before the grant starts are worded as the grant's, and
	// with --json are an error event like the grant's own.
	store, err := accountStoreOpener()
	if err != nil {
		return reportFailure(stdio, *asJSON, &signin.GrantError{UserID: *account, Err: err})
	}
	user := *account
	if user == "" {
		// An --account that is not here is the grant's own failure
		// (account_not_found), printed like any other.
		if user, err = chooseAccount(store, ""); err != nil {
			reportFailure(stdio, *asJSON, &signin.GrantError{Err: err})
			return accountChoiceExit(err)
		}
	}
	cfg := signin.GrantFlowConfig(settings)
	if *open {
		cfg.OpenURI = openBrowser
	}
	out := newEventPrinter(stdio, *asJSON, qrcode.TerminalOptions{Invert: *invert}, grantWords)
	g := startGrant(ctx, user, cfg, store, out.event)
	out.attach(g)
	if _, err := g.Wait(); err != nil {
		return ExitFail
	}
	return ExitOK
}
