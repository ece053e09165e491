package server

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Mode is the server's policy for MSC4388 session creation. MSC4388
// ("POST /_matrix/client/v1/rendezvous") leaves it to server policy; the
// names are Synapse's experimental_features.msc4388_mode values
// (docs/protocol-divergences.md "MSC4388 rendezvous on Synapse"). The zero
// value is ModeOpen.
type Mode int

const (
	// ModeOpen lets anyone create a session: a new device that is not yet
	// signed in can then generate the QR code itself.
	ModeOpen Mode = iota
	// ModeAuthenticated requires an access token that the homeserver's
	// whoami endpoint accepts, for discovery and creation. Reading and
	// writing an existing session never needs one (MSC4388 GET/PUT/DELETE:
	// "Requires authentication: No").
	ModeAuthenticated
	// ModeOff disables the MSC4388 API: every MSC4388 path answers 404
	// M_UNRECOGNIZED, as a Synapse whose servlets are not registered.
	ModeOff
)

// String returns the mode's configuration name ("open", "authenticated",
// "off").
func (m Mode) String() string {
	switch m {
	case ModeOpen:
		return "open"
	case ModeAuthenticated:
		return "authenticated"
	case ModeOff:
		return "off"
	default:
		return fmt.Sprintf("Mode(%d)", int(m))
	}
}

// ParseMode reads a mode name as String writes it.
func ParseMode(name string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "open":
		return ModeOpen, nil
	case "authenticated":
		return ModeAuthenticated, nil
	case "off":
		return ModeOff, nil
	default:
		return 0, fmt.Errorf("rendezvous: unknown mode %q (want open, authenticated or off)", name)
	}
}

// RetryRule decides which MSC4388 PUTs with a stale sequence_token are
// acknowledged as idempotent retries instead of rejected as concurrent
// writes. The zero value is RetryRuleMSC.
type RetryRule int

const (
	// RetryRuleMSC is the MSC4388 text ("The send mechanism"): a PUT whose
	// sequence_token does not match is accepted, without a write, whenever
	// its data is byte-for-byte identical to the current payload, whatever
	// the token.
	RetryRuleMSC RetryRule = iota
	// RetryRuleSynapse is Synapse's narrower is_idempotent_retry
	// (docs/protocol-divergences.md "Idempotent PUT"): the supplied token
	// must also be the one from before the last write. A blind retry with
	// an older token gets 409.
	RetryRuleSynapse
)

// DiscoveryPolicy decides what GET …/rendezvous answers in
// ModeAuthenticated when the request carries no access token. The zero
// value is DiscoveryUnauthorized.
type DiscoveryPolicy int

const (
	// DiscoveryUnauthorized answers 401 M_MISSING_TOKEN, as Synapse does
	// (docs/protocol-divergences.md "MSC4388 discovery").
	DiscoveryUnauthorized DiscoveryPolicy = iota
	// DiscoveryCreateUnavailable answers 200 {"create_available": false},
	// the MSC4388 text's reading: the API is there, but this requester
	// cannot create a session.
	DiscoveryCreateUnavailable
)

// Defaults for Config fields left at their zero value.
const (
	// DefaultTTL is the session lifetime: the MSC4388 maximum
	// ("Maximum duration of a rendezvous": at most 300 s, at least 120 s).
	// Synapse uses 120 s (MSC4388) and 60 s (2024).
	DefaultTTL = 300 * time.Second
	// DefaultMaxSessions caps the live sessions of both generations. Each
	// costs at most about 4.5 KiB, so the cap bounds the payload memory
	// at roughly 4.5 MiB.
	DefaultMaxSessions = 1000
	// DefaultMaxClients caps the per-client rate-limiter table.
	DefaultMaxClients = 10000
	// DefaultSweepInterval is how often expired sessions and idle limiter
	// entries are reclaimed in the background.
	DefaultSweepInterval = 30 * time.Second
	// DefaultTokenCacheTTL is how long a positive whoami answer is reused.
	DefaultTokenCacheTTL = time.Minute
)

// Per-client session limits of DefaultConfig. Without them one client
// under its request rate fills the whole DefaultMaxSessions cap within a
// minute and locks every other sign-in out for a session lifetime.
//
// A sign-in holds one session at a time: the device that shows the QR
// code creates it, the other only reads and writes it (MSC4388 "Concept"),
// and a fresh QR code after an expiry replaces a session that is gone. One
// person signing in a few devices therefore holds one to three sessions; a
// NAT'd office or household shares one IPv4 address (an IPv6 site shares
// a /64), so DefaultMaxSessionsPerClient leaves room for about twenty
// sign-ins under way at once behind one address. Filling the server then
// takes DefaultMaxSessions / DefaultMaxSessionsPerClient = 50 addresses
// or /64s instead of one.
//
// DefaultCreateRate bounds churn, which the live limit does not see: a
// client that creates and deletes sessions in a loop. A person creates one
// session per attempt and one per QR code refresh (every 60 to 300 s), so
// 30 per minute, with a burst of 30, lets that office start all its
// sign-ins at once and still retry every two seconds, while staying 40
// times below DefaultRequestRate, which polling needs.
const DefaultMaxSessionsPerClient = 20

// DefaultCreateRate is the per-client creation limit of DefaultConfig (see
// DefaultMaxSessionsPerClient for why).
var DefaultCreateRate = RequestRate{Requests: 30, Per: time.Minute}

// DefaultRequestRate is the per-client limit of DefaultConfig: a device
// polls about once per second (rust-sdk and js-sdk) or four times per
// second (PaceReply), and both devices of one sign-in may share an address,
// so this leaves ample headroom while stopping floods.
var DefaultRequestRate = RequestRate{Requests: 1200, Per: time.Minute, Burst: 100}

// Config configures New. Zero fields take the defaults named on them,
// except the per-client limits (Rate, CreateRate, MaxSessionsPerClient),
// whose zero values mean "no limit": embedders such as the development
// homeserver serve every test client from 127.0.0.1. DefaultConfig sets
// them for a public server.
type Config struct {
	// PublicURL is the base URL clients reach the server at, e.g.
	// "https://matrix.example.org". 2024 session URLs are built from it
	// (PublicURL + "/_synapse/client/rendezvous/" + id). Empty: derived from
	// each request, from X-Forwarded-Proto and X-Forwarded-Host when a
	// TrustedProxies peer sent them, else from its scheme and Host header.
	PublicURL string
	// Mode is the MSC4388 creation policy. The 2024 ETag API is always open,
	// as in Synapse (its POST takes no access token).
	Mode Mode
	// Homeserver is the base URL whose /_matrix/client/v3/account/whoami
	// checks bearer tokens in ModeAuthenticated.
	Homeserver string
	// TTL is the MSC4388 session lifetime, counted from creation; writes do
	// not extend it (as Synapse). Zero: DefaultTTL.
	TTL time.Duration
	// ETagTTL is the 2024 session lifetime. Zero: the same as TTL.
	ETagTTL time.Duration
	// MaxSessions caps live sessions of both generations; when full, new
	// ones are refused with 429 and live ones are never evicted. Zero:
	// DefaultMaxSessions; negative: no cap (benchmarks).
	MaxSessions int
	// Rate is the per-client request limit (clients are told apart by
	// remote IP, IPv6 by /64). Zero or negative Requests: unlimited.
	Rate RequestRate
	// CreateRate is the per-client limit on sessions created, both
	// generations together; a creation refused for another reason is not
	// charged. Zero: unlimited (DefaultConfig: DefaultCreateRate).
	CreateRate RequestRate
	// MaxSessionsPerClient caps the live sessions of one client, both
	// generations together; when reached, its new ones are refused with 429
	// until one of its sessions is deleted or expires. Zero or negative: no
	// per-client cap (DefaultConfig: DefaultMaxSessionsPerClient).
	MaxSessionsPerClient int
	// MaxClients caps the per-client table of each rate limit (Rate,
	// CreateRate); beyond it the least recently seen client is forgotten.
	// Zero: DefaultMaxClients.
	MaxClients int
	// TrustedProxies are the reverse proxies in front of the server. For a
	// request whose peer address is in one of them, the client is the
	// last X-Forwarded-For hop that is not, and X-Forwarded-Proto and
	// X-Forwarded-Host build session URLs when PublicURL is empty.
	// Requests from other peers are taken as they come.
	TrustedProxies []netip.Prefix
	// TrustForwardedFor takes the client address from the last entry of
	// X-Forwarded-For whatever the peer: set it only behind a reverse proxy
	// that appends it and cannot be bypassed. TrustedProxies is the
	// narrower choice and takes precedence for the peers it names; this
	// switch never makes the server believe X-Forwarded-Proto or -Host.
	TrustForwardedFor bool
	// RetryRule selects the idempotent-retry rule. Zero: RetryRuleMSC.
	RetryRule RetryRule
	// Discovery selects the unauthenticated discovery answer in
	// ModeAuthenticated. Zero: DiscoveryUnauthorized (Synapse).
	Discovery DiscoveryPolicy
	// UnstableOnly serves MSC4388 only under the unstable prefix
	// /_matrix/client/unstable/io.element.msc4388/, as Synapse does; by
	// default the MSC text's /_matrix/client/v1/ paths are served too.
	UnstableOnly bool
	// DisableETag turns the 2024 ETag API off (404 M_UNRECOGNIZED).
	DisableETag bool
	// ServeVersions answers GET /_matrix/client/versions, advertising
	// unstable_features {"org.matrix.msc4108": true} like Synapse; for a
	// standalone deployment. A homeserver that mounts the handler serves
	// /versions itself.
	ServeVersions bool
	// HTTPClient calls whoami. Nil: a client with a 10 s timeout.
	HTTPClient *http.Client
	// TokenCacheTTL is how long a positive whoami answer is cached. Zero:
	// DefaultTokenCacheTTL; negative: no caching.
	TokenCacheTTL time.Duration
	// SweepInterval is how often the background sweeper runs. Zero:
	// DefaultSweepInterval.
	SweepInterval time.Duration
	// Now is the clock (tests set it). Nil: time.Now.
	Now func() time.Time
}

// DefaultConfig returns the configuration of a standalone public
// rendezvous server: open mode, 300 s sessions, DefaultMaxSessions,
// DefaultRequestRate, DefaultCreateRate, DefaultMaxSessionsPerClient, both
// path prefixes and both generations.
func DefaultConfig() Config {
	return Config{
		Mode:                 ModeOpen,
		TTL:                  DefaultTTL,
		MaxSessions:          DefaultMaxSessions,
		Rate:                 DefaultRequestRate,
		CreateRate:           DefaultCreateRate,
		MaxSessionsPerClient: DefaultMaxSessionsPerClient,
		MaxClients:           DefaultMaxClients,
		TokenCacheTTL:        DefaultTokenCacheTTL,
		SweepInterval:        DefaultSweepInterval,
	}
}

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	if c.TTL <= 0 {
		c.TTL = DefaultTTL
	}
	if c.ETagTTL <= 0 {
		c.ETagTTL = c.TTL
	}
	if c.MaxSessions == 0 {
		c.MaxSessions = DefaultMaxSessions
	}
	if c.MaxClients <= 0 {
		c.MaxClients = DefaultMaxClients
	}
	if c.TokenCacheTTL == 0 {
		c.TokenCacheTTL = DefaultTokenCacheTTL
	}
	if c.SweepInterval <= 0 {
		c.SweepInterval = DefaultSweepInterval
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	c.Homeserver = strings.TrimRight(c.Homeserver, "/")
	return c
}
