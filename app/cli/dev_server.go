package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"time"

	"github.com/qrlogin/qrlogin/internal/devserver"
)

func init() {
	Register(Command{
		Name:    "dev-server",
		Summary: "run a development homeserver (Synapse + MAS look-alike with a test account) on 127.0.0.1",
		Run:     runDevServer,
	})
}

func runDevServer(ctx context.Context, args []string, stdio Stdio, _ FrontEnds) int {
	fs := flag.NewFlagSet("dev-server", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	fs.Usage = func() {
		fmt.Fprintln(stdio.Err, "usage: qrlogin dev-server [flags]")
		fs.PrintDefaults()
		fmt.Fprint(stdio.Err, devServerPhoneHelp)
		fmt.Fprint(stdio.Err, devServerNewDeviceHelp)
	}
	listen := fs.String("listen", "127.0.0.1:8008", "loopback `address` to listen on (port 0 picks a free one)")
	sessionTTL := fs.Duration("session-ttl", 0, "rendezvous session lifetime for both generations (default: Synapse's 60s for 2024, 120s for MSC4388)")
	deviceCodeTTL := fs.Duration("device-code-ttl", devserver.DefaultDeviceCodeLifetime, "device code lifetime (expires_in)")
	interval := fs.Int("interval", int(devserver.DefaultPollInterval/time.Second), "device code poll interval in whole `seconds`")
	tokenTTL := fs.Duration("access-token-ttl", devserver.DefaultAccessTokenLifetime, "access token lifetime")
	no2024 := fs.Bool("no-2024", false, "do not offer the 2024 MSC4108 rendezvous")
	msc4388 := fs.String("msc4388", string(devserver.MSC4388Open), "MSC4388 rendezvous `mode`: off, open or authenticated")
	autoFill := fs.Bool("verification-uri-complete", false, "also return verification_uri_complete (MAS's user-code auto-fill)")
	noBackup := fs.Bool("no-backup", false, "run the test account without a key backup")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stdio.Err, "dev-server: unexpected argument %q\n", fs.Arg(0))
		return ExitUsage
	}
	if err := requireLoopback(*listen); err != nil {
		fmt.Fprintf(stdio.Err, "dev-server: %v\n", err)
		return ExitUsage
	}
	if *interval < 1 {
		fmt.Fprintln(stdio.Err, "dev-server: --interval must be at least 1 second")
		return ExitUsage
	}
	cfg := devserver.Config{
		DeviceCodeLifetime:      *deviceCodeTTL,
		PollInterval:            time.Duration(*interval) * time.Second,
		AccessTokenLifetime:     *tokenTTL,
		SessionTTL2024:          *sessionTTL,
		SessionTTLMSC4388:       *sessionTTL,
		Disable2024:             *no2024,
		MSC4388:                 devserver.MSC4388Mode(*msc4388),
		VerificationURIComplete: *autoFill,
		NoBackup:                *noBackup,
	}
	srv, err := devserver.New(cfg)
	if err != nil {
		fmt.Fprintf(stdio.Err, "dev-server: %v\n", err)
		return ExitUsage
	}
	defer srv.Close()
	if err := srv.Start(ctx, *listen); err != nil {
		fmt.Fprintf(stdio.Err, "dev-server: %v\n", err)
		return ExitFail
	}
	fmt.Fprintf(stdio.Err, "dev-server: homeserver %s\n", srv.URL())
	fmt.Fprintf(stdio.Err, "dev-server: consent page %s\n", srv.ConsentURL())
	fmt.Fprintf(stdio.Err, "dev-server: test account %s\n", srv.UserID())
	fmt.Fprintln(stdio.Err, "dev-server: serving until Ctrl-C")

	// The scripted phone (dev_phone.go) runs next to the server, reading
	// QR payloads from stdin, until ctx ends.
	if err := runDevServerPhone(ctx, srv, stdio); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stdio.Err, "dev-server: scripted phone: %v\n", err)
		return ExitFail
	}
	<-ctx.Done()
	fmt.Fprintln(stdio.Err, "dev-server: stopped")
	return ExitOK
}

// requireLoopback refuses to serve beyond this machine: the consent page
// approves sign-ins for the test account without asking for a password.
func requireLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q: %v", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--listen %q: only loopback addresses such as 127.0.0.1 are allowed", addr)
	}
	return nil
}
