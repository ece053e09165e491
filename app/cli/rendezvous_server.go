package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
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
	publicURL := fs.String("public-url", "", "base `URL` clients reach this server at; 2024 session URLs are built from it (default http://ADDR; with --trusted-proxy, what the proxy forwards)")
	modeName := fs.String("mode", defaults.Mode.String(), "MSC4388 creation policy: open, authenticated (bearer token checked with the homeserver) or off")
	homeserver := fs.String("homeserver", "", "homeserver base `URL` whose /_matrix/client/v3/account/whoami checks tokens (required with --mode authenticated)")
	ttl := fs.Duration("ttl", defaults.TTL, "session lifetime from creation; MSC4388 asks for 120s to 300s")
	etagTTL := fs.Duration("etag-ttl", 0, "2024 session lifetime (default: --ttl)")
	maxSessions := fs.Int("max-sessions", defaults.MaxSessions, "cap on live sessions; when full, new ones get 429 (0: no cap)")
	rateText := fs.String("rate", defaults.Rate.String(), "per-client request `limit` such as 60/min, 10/s or 60/min,burst=20; 0 for none")
	createRateText := fs.String("create-rate", defaults.CreateRate.String(), "per-client session creation `limit`, same syntax as --rate; 0 for none")
	perClient := fs.Int("max-sessions-per-client", defaults.MaxSessionsPerClient, "cap on one client's live sessions (an IPv4 address or IPv6 /64); 0: no cap")
	var trustedProxies []netip.Prefix
	fs.Func("trusted-proxy", "`CIDR` or address of a reverse proxy whose X-Forwarded-For, -Proto and -Host are believed (repeatable)", func(text string) error {
		prefix, err := parseTrustedProxy(text)
		if err == nil {
			trustedProxies = append(trustedProxies, prefix)
		}
		return err
	})
	trustXFF := fs.Bool("trust-forwarded-for", false, "count clients by the last X-Forwarded-For address from any peer (only behind a proxy that sets it and cannot be bypassed; prefer --trusted-proxy)")
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
	createRate, err := server.ParseRequestRate(*createRateText)
	if err != nil {
		return usage("--create-rate: %v", err)
	}
	if *perClient < 0 {
		return usage("--max-sessions-per-client must be 0 (no cap) or more")
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
	cfg.CreateRate = createRate
	cfg.MaxSessionsPerClient = *perClient
	cfg.TrustedProxies = trustedProxies
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
	// Behind a trusted proxy the session URL follows what the proxy
	// forwards; otherwise it names this listener, as clients reach it.
	if cfg.PublicURL == "" && len(cfg.TrustedProxies) == 0 {
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
	fmt.Fprintf(stdio.Err, "%s: listening on http://%s (public URL %s, MSC4388 %s, rate %s, %s, TTL %s%s)\n",
		name, listener.Addr(), publicURLNote(cfg.PublicURL), mode, rate, perClientNote(cfg), *ttl, proxiesNote(cfg.TrustedProxies))

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

// parseTrustedProxy reads --trusted-proxy: a CIDR prefix, or a single
// address (a /32 or /128).
func parseTrustedProxy(text string) (netip.Prefix, error) {
	text = strings.TrimSpace(text)
	if prefix, err := netip.ParsePrefix(text); err == nil {
		return prefix.Masked(), nil
	}
	addr, err := netip.ParseAddr(text)
	if err != nil || addr.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR prefix (10.0.0.0/8, fd00::/8) or an IP address", text)
	}
	addr = addr.Unmap()
	return netip.PrefixFrom(addr, addr.BitLen()), nil
}

func publicURLNote(publicURL string) string {
	if publicURL == "" {
		return "from X-Forwarded-Proto/-Host of trusted proxies, else the Host header"
	}
	return publicURL
}

func perClientNote(cfg server.Config) string {
	sessions := "no cap on live sessions"
	if cfg.MaxSessionsPerClient > 0 {
		sessions = strconv.Itoa(cfg.MaxSessionsPerClient) + " live sessions"
	}
	creations := "unlimited"
	if !cfg.CreateRate.Unlimited() {
		creations = cfg.CreateRate.String()
	}
	return sessions + " and " + creations + " creations per client"
}

func proxiesNote(proxies []netip.Prefix) string {
	if len(proxies) == 0 {
		return ""
	}
	names := make([]string, len(proxies))
	for i, prefix := range proxies {
		names[i] = prefix.String()
	}
	return ", trusted proxies " + strings.Join(names, ", ")
}
