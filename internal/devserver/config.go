package devserver

import (
	"fmt"
	"net/http"
	"time"
)

// Defaults mirror the production servers the dev server imitates.
const (
	// DefaultDeviceCodeLifetime is MAS's device-code expires_in
	// (docs/protocol-divergences.md "Device authorization").
	DefaultDeviceCodeLifetime = 1200 * time.Second
	// DefaultPollInterval is MAS's device-code interval
	// (docs/protocol-divergences.md "Device authorization").
	DefaultPollInterval = 5 * time.Second
	// DefaultAccessTokenLifetime is MAS's default access-token lifetime.
	DefaultAccessTokenLifetime = 5 * time.Minute
	// DefaultSessionTTL2024 is Synapse's 2024 rendezvous lifetime
	// (docs/protocol-divergences.md "Session lifetime and clocks").
	DefaultSessionTTL2024 = 60 * time.Second
	// DefaultSessionTTLMSC4388 is Synapse's MSC4388 rendezvous lifetime
	// (docs/protocol-divergences.md "Session lifetime and clocks").
	DefaultSessionTTLMSC4388 = 120 * time.Second
	// DefaultUserLocalpart names the one test account.
	DefaultUserLocalpart = "alice"
)

// MSC4388Mode is Synapse's experimental_features.msc4388_mode
// (docs/protocol-divergences.md "MSC4388 rendezvous on Synapse"). The zero
// value means MSC4388Open, so a zero Config offers both generations.
type MSC4388Mode string

const (
	MSC4388Open          MSC4388Mode = "open"
	MSC4388Off           MSC4388Mode = "off"
	MSC4388Authenticated MSC4388Mode = "authenticated"
)

// RendezvousOptions is what the dev server tells the rendezvous handler it
// mounts.
type RendezvousOptions struct {
	// BaseURL is the server's public base URL without a trailing slash; the
	// 2024 create answer points below it, at /_synapse/client/rendezvous/.
	BaseURL string
	// SessionTTL2024 and SessionTTLMSC4388 are the session lifetimes.
	SessionTTL2024    time.Duration
	SessionTTLMSC4388 time.Duration
	// Offer2024 and MSC4388 say which generations are served.
	Offer2024 bool
	MSC4388   MSC4388Mode
	// MSC4388StablePaths also serves the MSC text's /v1/ paths.
	MSC4388StablePaths bool
	// Now is the dev server's clock (Config.Now).
	Now func() time.Time
}

// RendezvousFactory builds the handler that serves every rendezvous path
// (both generations). The dev server gates the paths (off, authenticated)
// before delegating, so the handler need not know about access tokens.
type RendezvousFactory func(RendezvousOptions) (http.Handler, error)

// Config sets up a Server. The zero value is usable: every zero field takes
// the default named on it.
type Config struct {
	// BaseURL is the public base URL, e.g. "http://127.0.0.1:8008". Empty:
	// Start derives it from the address it listens on. The server name (the
	// part after the colon in @alice:<name>) is its host:port.
	BaseURL string
	// UserLocalpart of the test account; default "alice".
	UserLocalpart string

	// DeviceCodeLifetime is the device code's expires_in; default 1200 s.
	DeviceCodeLifetime time.Duration
	// PollInterval is the device code's interval, whole seconds (a smaller
	// value is rounded up to 1 s, since clients read whole seconds);
	// default 5 s.
	PollInterval time.Duration
	// AccessTokenLifetime is the access token's expires_in; default 5 min.
	AccessTokenLifetime time.Duration
	// VerificationURIComplete also returns verification_uri_complete
	// (MAS's device_code_user_code_auto_fill_enabled; off by default since
	// 2026-05-26; docs/protocol-divergences.md "Device authorization") and
	// pre-fills the consent form from ?code=.
	VerificationURIComplete bool
	// ScopePolicyAtConsent checks the requested scopes on the consent page,
	// as MAS's policy does (docs/protocol-divergences.md "Device
	// authorization"), instead of at the device authorization
	// endpoint (the default, which gives a client an immediate
	// invalid_scope answer).
	ScopePolicyAtConsent bool

	// SessionTTL2024 is the 2024 rendezvous lifetime; default 60 s.
	SessionTTL2024 time.Duration
	// SessionTTLMSC4388 is the MSC4388 rendezvous lifetime; default 120 s.
	SessionTTLMSC4388 time.Duration
	// Disable2024 turns off the 2024 rendezvous and the org.matrix.msc4108
	// flag in /versions (Synapse's msc4108_enabled: false).
	Disable2024 bool
	// MSC4388 is the MSC4388 rendezvous mode; zero means open.
	MSC4388 MSC4388Mode
	// MSC4388StablePaths also serves /_matrix/client/v1/rendezvous (the MSC
	// text's path; Synapse registers only the unstable one).
	MSC4388StablePaths bool
	// Rendezvous builds the rendezvous handler; nil mounts the rendezvous
	// package's server (rendezvous_default.go).
	Rendezvous RendezvousFactory

	// NoBackup leaves the account without a key backup, so
	// GET room_keys/version answers 404 M_NOT_FOUND.
	NoBackup bool

	// Now is the clock for every expiry; nil means time.Now. Tests pass a
	// fake clock to expire codes and tokens without sleeping.
	Now func() time.Time
}

// withDefaults fills zero fields and rejects contradictory settings.
func (c Config) withDefaults() (Config, error) {
	if c.UserLocalpart == "" {
		c.UserLocalpart = DefaultUserLocalpart
	}
	if c.DeviceCodeLifetime == 0 {
		c.DeviceCodeLifetime = DefaultDeviceCodeLifetime
	}
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.PollInterval < time.Second {
		c.PollInterval = time.Second
	}
	if c.AccessTokenLifetime == 0 {
		c.AccessTokenLifetime = DefaultAccessTokenLifetime
	}
	if c.SessionTTL2024 == 0 {
		c.SessionTTL2024 = DefaultSessionTTL2024
	}
	if c.SessionTTLMSC4388 == 0 {
		c.SessionTTLMSC4388 = DefaultSessionTTLMSC4388
	}
	if c.MSC4388 == "" {
		c.MSC4388 = MSC4388Open
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	switch c.MSC4388 {
	case MSC4388Open, MSC4388Off, MSC4388Authenticated:
	default:
		return c, fmt.Errorf("devserver: unknown MSC4388 mode %q (want off, open or authenticated)", c.MSC4388)
	}
	for name, d := range map[string]time.Duration{
		"device-code lifetime": c.DeviceCodeLifetime, "access-token lifetime": c.AccessTokenLifetime,
		"2024 session TTL": c.SessionTTL2024, "MSC4388 session TTL": c.SessionTTLMSC4388,
	} {
		if d < 0 {
			return c, fmt.Errorf("devserver: negative %s %v", name, d)
		}
	}
	return c, nil
}

// wholeSeconds rounds a duration up to whole seconds, the unit of
// expires_in and interval on the wire.
func wholeSeconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}
