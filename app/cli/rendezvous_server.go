package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/qrlogin/qrlogin/protocol/rendezvous/server"
)

func init() {
	Register(Command{
		Name:    "rendezvous-server",
		Summary: "run a standalone rendezvous server for sign-in with QR (MSC4388 and the 2024 ETag API)",
		Run:     runRendezvousServer,
	})
}

// rendezvousShutdownGrace is how long in-flight requests may finish after
// the context ends.
const rendezvousShutdownGrace = 5 * time.Second

func runRendezvousServer(ctx context.Context, args []string, stdio Stdio, _ FrontEnds) int {
	const name = "rendezvous-server"
	defaults := server.DefaultConfig()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: qrlogin %s --listen ADDR [flags]\n\n", name)
		fmt.Fprintln(fs.Output(), "Serves MSC4388 rendezvous sessions under /_matrix/client/unstable/io.element.msc4388/rendezvous")
		fmt.Fprintln(fs.Output(), "and /_matrix/client/v1/rendezvous, the 2024 MSC4108 ETag API, and /_matrix/client/versions.")
		fmt.Fprintln(fs.Output(), "Sessions live in memory. The 2024 API is always open, as in Synapse; --mode governs MSC4388.")
		fmt.Fprintln(fs.Output())
		fs.PrintDefaults()
	}
	listen := fs.String("listen", "", "`address` to listen on, e.g. 127.0.0.1:8090 or :8090 (required; port 0 picks a free one)")
	publicURL := fs.String("public-url", "", "base `URL` clients reach this server at; 2024 session URLs are built from it (default http://ADDR)")
	modeName := fs.String("mode", defaults.Mode.String(), "MSC4388 creation policy: open, authenticated (bearer token checked with the homeserver) or off")
	homeserver := fs.String("homeserver", "", "homeserver base `URL` whose /_matrix/client/v3/account/whoami checks tokens (required with --mode authenticated)")
	ttl := fs.Duration("ttl", defaults.TTL, "session lifetime from creation; MSC4388 asks for 120s to 300s")
	etagTTL := fs.Duration("etag-ttl", 0, "2024 session lifetime (default: --ttl)")
	maxSessions := fs.Int("max-sessions", defaults.MaxSessions, "cap on live sessions; when full, new ones get 429 (0: no cap)")
	rateText := fs.String("rate", defaults.Rate.String(), "per-client `limit` such as 60/min, 10/s or 60/min,burst=20; 0 for none")
	trustXFF := fs.Bool("trust-forwarded-for", false, "count clients by the last X-Forwarded-For address (only behind a proxy that sets it)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stdio.Err, name+": "+format+"\n", a...)
		return ExitUsage
	}
	if fs.NArg() > 0 {
		return usage("unexpected argument %q", fs.Arg(0))
	}
	if *listen == "" {
		return usage("--listen is required")
	}
	if _, _, err := net.SplitHostPort(*listen); err != nil {
		return usage("--listen %q: %v", *listen, err)
	}
	mode, err := server.ParseMode(*modeName)
	if err != nil {
		return usage("--mode: %v", err)
	}
	rate, err := server.ParseRequestRate(*rateText)
	if err != nil {
		return usage("--rate: %v", err)
	}
	if *ttl <= 0 || *etagTTL < 0 {
		return usage("--ttl and --etag-ttl must be positive")
	}
	if *maxSessions < 0 {
		return usage("--max-sessions must be 0 (no cap) or more")
	}
	cfg := defaults
	cfg.PublicURL = *publicURL
	cfg.Mode = mode
	cfg.Homeserver = *homeserver
	cfg.TTL = *ttl
	cfg.ETagTTL = *etagTTL
	cfg.MaxSessions = *maxSessions
	if *maxSessions == 0 {
		cfg.MaxSessions = -1
	}
	cfg.Rate = rate
	cfg.TrustForwardedFor = *trustXFF
	cfg.ServeVersions = true
	if err := cfg.Validate(); err != nil {
		return usage("%v", err)
	}
	if *ttl < 120*time.Second || *ttl > 300*time.Second {
		fmt.Fprintf(stdio.Err, "%s: note: --ttl %s is outside MSC4388's recommended 120s to 300s\n", name, *ttl)
	}

	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stdio.Err, "%s: %v\n", name, err)
		return ExitFail
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + reachableAddr(listener.Addr())
	}
	handler := server.New(cfg)
	defer handler.Close()
	httpServer := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10, // requests carry a token and an ETag at most
		ErrorLog:          log.New(stdio.Err, name+": ", 0),
	}
	served := make(chan error, 1)
	go func() { served <- httpServer.Serve(listener) }()
	fmt.Fprintf(stdio.Err, "%s: listening on http://%s (public URL %s, MSC4388 %s, rate %s, TTL %s)\n",
		name, listener.Addr(), cfg.PublicURL, mode, rate, *ttl)

	select {
	case err := <-served: // Serve never returns nil
		fmt.Fprintf(stdio.Err, "%s: %v\n", name, err)
		return ExitFail
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rendezvousShutdownGrace)
	defer cancel()
	if err := httpServer.Shutdown(shutdownCtx); err != nil {
		fmt.Fprintf(stdio.Err, "%s: shutdown: %v\n", name, err)
		return ExitFail
	}
	fmt.Fprintf(stdio.Err, "%s: stopped\n", name)
	return ExitOK
}

// reachableAddr turns a listener address into host:port for a URL: an
// unspecified host (":8090", "0.0.0.0:8090") becomes localhost, which at
// least works on this machine; other machines need --public-url.
func reachableAddr(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
