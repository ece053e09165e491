package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// loopbackProxy trusts the test listener's peer (127.0.0.1) as a reverse
// proxy, so that a test can speak for other clients with X-Forwarded-For.
var loopbackProxy = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

// viaProxy is the header a trusted proxy adds for a client at ip.
func viaProxy(ip string) []string { return []string{"X-Forwarded-For", ip} }

// createAs makes an MSC4388 session for the client the headers name and
// returns the response.
func (env *testEnv) createAs(headers ...string) testResponse {
	env.t.Helper()
	return env.do(http.MethodPost, pathMSC4388Unstable, `{"data":"x"}`, headers...)
}

// TestOneClientCannotFillTheServer is the abuse the per-client limits
// stop: under DefaultConfig one client creating a session every 55 ms
// (under the 1200/min request rate) for a minute would otherwise hold all
// DefaultMaxSessions sessions, locking every other sign-in out.
func TestOneClientCannotFillTheServer(t *testing.T) {
	cfg := DefaultConfig()
	cfg.TrustedProxies = loopbackProxy
	env := newTestEnv(t, cfg)
	created := 0
	for range DefaultMaxSessions {
		if env.createAs().status == http.StatusOK {
			created++
		}
		env.clock.Advance(55 * time.Millisecond)
	}
	if created > DefaultMaxSessionsPerClient {
		t.Fatalf("one client created %d live sessions, want at most %d", created, DefaultMaxSessionsPerClient)
	}
	env.createAs(viaProxy("198.51.100.7")...).expectStatus(t, http.StatusOK)
}

// TestSessionsPerClient: a client at MaxSessionsPerClient live sessions
// (both generations count) is refused with 429 M_LIMIT_EXCEEDED, Retry-After
// and retry_after_ms until its oldest session expires, while other clients
// still create; its sessions stay readable.
func TestSessionsPerClient(t *testing.T) {
	env := newTestEnv(t, Config{MaxSessionsPerClient: 3, TrustedProxies: loopbackProxy, TTL: 100 * time.Second, ETagTTL: 50 * time.Second})
	id1, _ := env.create4388(pathMSC4388Unstable, "1")
	env.clock.Advance(10 * time.Second)
	env.create4388(pathMSC4388Stable, "2")
	etagURL, _ := env.createETag("3") // created at 10 s, expires at 60 s: the oldest expiry

	refused := env.createAs()
	refused.expectError(t, http.StatusTooManyRequests, "M_LIMIT_EXCEEDED")
	if refused.header.Get("Retry-After") != "50" || refused.num(t, "retry_after_ms") != 50000 {
		t.Fatalf("Retry-After %q, retry_after_ms %v; want 50 s", refused.header.Get("Retry-After"), refused.num(t, "retry_after_ms"))
	}
	env.do(http.MethodPost, pathETagCreate, "4", "Content-Type", "text/plain").expectError(t, http.StatusTooManyRequests, "M_LIMIT_EXCEEDED")
	env.do(http.MethodGet, pathMSC4388Unstable+"/"+id1, "").expectStatus(t, http.StatusOK)
	env.do(http.MethodGet, etagURL, "").expectStatus(t, http.StatusOK)

	// Another client, and another IPv6 /64, are not affected; one /64 is
	// one client.
	env.createAs(viaProxy("198.51.100.7")...).expectStatus(t, http.StatusOK)
	for i := range 3 {
		env.createAs(viaProxy(fmt.Sprintf("2001:db8:1:2::%x", i+1))...).expectStatus(t, http.StatusOK)
	}
	env.createAs(viaProxy("2001:db8:1:2:ffff:ffff:ffff:ffff")...).expectError(t, http.StatusTooManyRequests, "M_LIMIT_EXCEEDED")
	env.createAs(viaProxy("2001:db8:1:3::1")...).expectStatus(t, http.StatusOK)
}

// TestSessionsPerClientFreed: a DELETE (either generation) and an
// expiry give a slot back at once, whether the expired session is found by
// a read, by the next create or by the sweeper; nothing is left counted.
func TestSessionsPerClientFreed(t *testing.T) {
	env := newTestEnv(t, Config{MaxSessionsPerClient: 2, TTL: 100 * time.Second, ETagTTL: 50 * time.Second})
	id1, _ := env.create4388(pathMSC4388Unstable, "1")
	etagURL, _ := env.createETag("2")
	env.createAs().expectStatus(t, http.StatusTooManyRequests)

	env.do(http.MethodDelete, pathMSC4388Unstable+"/"+id1, "").expectStatus(t, http.StatusOK)
	id3, _ := env.create4388(pathMSC4388Unstable, "3")
	env.createAs().expectStatus(t, http.StatusTooManyRequests)

	env.do(http.MethodDelete, etagURL, "").expectStatus(t, http.StatusNoContent)
	etagURL, _ = env.createETag("4")
	env.createAs().expectStatus(t, http.StatusTooManyRequests)

	// The 2024 session expires first; a read finds it expired.
	env.clock.Advance(50 * time.Second)
	env.do(http.MethodGet, etagURL, "").expectStatus(t, http.StatusNotFound)
	env.create4388(pathMSC4388Unstable, "5") // expires at 150 s
	env.createAs().expectStatus(t, http.StatusTooManyRequests)

	// At 100 s the first MSC4388 session has expired unread: the create
	// reclaims it without waiting for the sweeper.
	env.clock.Advance(50 * time.Second)
	env.create4388(pathMSC4388Unstable, "6")
	env.createAs().expectStatus(t, http.StatusTooManyRequests)
	env.do(http.MethodGet, pathMSC4388Unstable+"/"+id3, "").expectStatus(t, http.StatusNotFound)

	// The sweeper's reclamation frees the count too.
	env.clock.Advance(time.Hour)
	env.server.sweep()
	if n := env.server.store.size(); n != 0 {
		t.Fatalf("%d sessions left after the sweep", n)
	}
	if n := env.server.store.clientCount(); n != 0 {
		t.Fatalf("%d clients still counted with no session left", n)
	}
	env.createAs().expectStatus(t, http.StatusOK)
	env.createAs().expectStatus(t, http.StatusOK)
}

// TestCreateRatePerClient: session creation has its own per-client rate,
// charged only for sessions actually created; reads and writes do not
// count against it; other clients are unaffected; tokens come back.
func TestCreateRatePerClient(t *testing.T) {
	env := newTestEnv(t, Config{CreateRate: RequestRate{Requests: 3, Per: time.Minute}, TrustedProxies: loopbackProxy})
	for i := range 3 {
		id, _ := env.create4388(pathMSC4388Unstable, fmt.Sprint(i))
		env.do(http.MethodDelete, pathMSC4388Unstable+"/"+id, "").expectStatus(t, http.StatusOK)
	}
	refused := env.createAs()
	refused.expectError(t, http.StatusTooManyRequests, "M_LIMIT_EXCEEDED")
	if refused.header.Get("Retry-After") != "20" || refused.num(t, "retry_after_ms") != 20000 {
		t.Fatalf("Retry-After %q, retry_after_ms %v; want 20 s", refused.header.Get("Retry-After"), refused.num(t, "retry_after_ms"))
	}
	env.do(http.MethodPost, pathETagCreate, "x", "Content-Type", "text/plain").expectStatus(t, http.StatusTooManyRequests)
	other := env.createAs(viaProxy("198.51.100.7")...)
	other.expectStatus(t, http.StatusOK)
	id, token := other.str(t, "id"), other.str(t, "sequence_token")
	// The refused client still reads and writes sessions.
	for range 10 {
		env.do(http.MethodGet, pathMSC4388Unstable+"/"+id, "").expectStatus(t, http.StatusOK)
	}
	env.put4388(pathMSC4388Unstable, id, token, "y").expectStatus(t, http.StatusOK)

	env.clock.Advance(20 * time.Second)
	env.createAs().expectStatus(t, http.StatusOK)
	env.createAs().expectStatus(t, http.StatusTooManyRequests)
}

// TestCreateRateNotChargedWhenRefused: a create refused by the live
// limit (or the server cap) does not use up a creation token, so a client
// that waits for a slot can take it.
func TestCreateRateNotChargedWhenRefused(t *testing.T) {
	env := newTestEnv(t, Config{MaxSessionsPerClient: 1, CreateRate: RequestRate{Requests: 2, Per: time.Hour}})
	id, _ := env.create4388(pathMSC4388Unstable, "1")
	for range 5 {
		env.createAs().expectStatus(t, http.StatusTooManyRequests)
	}
	env.do(http.MethodDelete, pathMSC4388Unstable+"/"+id, "").expectStatus(t, http.StatusOK)
	env.create4388(pathMSC4388Unstable, "2")
}

// TestDefaultPerClientLimits: DefaultConfig limits clients; a zero
// Config (library users, the development homeserver) does not.
func TestDefaultPerClientLimits(t *testing.T) {
	d := DefaultConfig()
	if d.MaxSessionsPerClient != DefaultMaxSessionsPerClient || d.CreateRate != DefaultCreateRate {
		t.Fatalf("DefaultConfig per-client limits %d, %v", d.MaxSessionsPerClient, d.CreateRate)
	}
	if DefaultMaxSessionsPerClient <= 0 || DefaultMaxSessionsPerClient >= DefaultMaxSessions {
		t.Fatalf("DefaultMaxSessionsPerClient %d", DefaultMaxSessionsPerClient)
	}
	perMinute := func(r RequestRate) float64 { return float64(r.Requests) / r.Per.Minutes() }
	if DefaultCreateRate.Unlimited() || perMinute(DefaultCreateRate) >= perMinute(DefaultRequestRate) {
		t.Fatalf("DefaultCreateRate %v is not below the request rate %v", DefaultCreateRate, DefaultRequestRate)
	}
	env := newTestEnv(t, Config{})
	for range 2 * DefaultCreateRate.Requests {
		env.createAs().expectStatus(t, http.StatusOK)
	}
}

// TestClientKeyBehindProxy: the client address is the last X-Forwarded-For
// hop that is not a trusted proxy, and only when the peer itself is one.
func TestClientKeyBehindProxy(t *testing.T) {
	policy := newProxyPolicy([]netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("2001:db8:ffff::/48"),
	}, false)
	req := func(remote string, xff ...string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = remote
		for _, v := range xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		return r
	}
	for _, tc := range []struct {
		name string
		r    *http.Request
		want string
	}{
		{"untrusted peer: header ignored", req("192.0.2.1:5000", "198.51.100.1"), "192.0.2.1"},
		{"trusted peer, no header", req("10.0.0.1:5000"), "10.0.0.1"},
		{"trusted peer", req("10.0.0.1:5000", "198.51.100.1"), "198.51.100.1"},
		{"spoofed hops left of the real one", req("10.0.0.1:5000", "203.0.113.66, 198.51.100.1"), "198.51.100.1"},
		{"chain of trusted proxies", req("10.0.0.1:5000", "203.0.113.66, 198.51.100.1, 10.1.2.3"), "198.51.100.1"},
		{"across header lines", req("10.0.0.1:5000", "203.0.113.66", "198.51.100.1, 10.1.2.3"), "198.51.100.1"},
		{"all hops trusted: the first", req("10.0.0.1:5000", "10.9.9.9, 10.1.2.3"), "10.9.9.9"},
		{"garbage after a trusted hop: that hop", req("10.0.0.1:5000", "garbage, 10.1.2.3"), "10.1.2.3"},
		{"garbage as the only hop: the peer", req("10.0.0.1:5000", "unknown"), "10.0.0.1"},
		{"hop with a port", req("10.0.0.1:5000", "198.51.100.1:4711"), "198.51.100.1"},
		{"IPv6 hop grouped by /64", req("10.0.0.1:5000", "[2001:db8:1:2::99]:443"), "2001:db8:1:2::/64"},
		{"IPv6 trusted proxy", req("[2001:db8:ffff::1]:5000", "2001:db8:1:2:3::1"), "2001:db8:1:2::/64"},
		{"IPv4-mapped trusted peer", req("[::ffff:10.0.0.1]:5000", "198.51.100.1"), "198.51.100.1"},
		{"IPv4-mapped hop", req("10.0.0.1:5000", "::ffff:198.51.100.1"), "198.51.100.1"},
		{"zoned peer is not trusted", req("[fe80::1%eth0]:1", "198.51.100.1"), "fe80::/64"},
	} {
		if got := policy.clientKey(tc.r); got != tc.want {
			t.Errorf("%s: key = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestAddrKeyGroupsIPv6By64: the key of an address, as a pure function.
func TestAddrKeyGroupsIPv6By64(t *testing.T) {
	key := func(s string) string { return addrKey(netip.MustParseAddr(s)) }
	if a, b := key("2001:db8:a:b::1"), key("2001:db8:a:b:ffff:ffff:ffff:ffff"); a != b || a != "2001:db8:a:b::/64" {
		t.Fatalf("one /64, two keys: %q, %q", a, b)
	}
	if key("2001:db8:a:b::1") == key("2001:db8:a:c::1") {
		t.Fatal("two /64s share a key")
	}
	if key("192.0.2.1") == key("192.0.2.2") || key("::ffff:192.0.2.1") != "192.0.2.1" {
		t.Fatal("IPv4 addresses are not keyed one by one")
	}
}

// TestSessionURLBehindProxy: the 2024 POST answers an absolute session
// URL: PublicURL when set; otherwise X-Forwarded-Proto / X-Forwarded-Host,
// but only from a trusted proxy and only when well formed; otherwise the
// request's own scheme and Host, as without a proxy.
func TestSessionURLBehindProxy(t *testing.T) {
	forwarded := func(proto, host string) []string {
		h := []string{"Content-Type", "text/plain"}
		if proto != "" {
			h = append(h, "X-Forwarded-Proto", proto)
		}
		if host != "" {
			h = append(h, "X-Forwarded-Host", host)
		}
		return h
	}
	urlOf := func(env *testEnv, headers []string) string {
		t.Helper()
		resp := env.do(http.MethodPost, pathETagCreate, "x", headers...)
		resp.expectStatus(t, http.StatusCreated)
		u := resp.str(t, "url")
		base, _, ok := strings.Cut(u, pathETagSession)
		if !ok {
			t.Fatalf("session URL %q", u)
		}
		return base
	}

	trusted := newTestEnv(t, Config{TrustedProxies: loopbackProxy})
	direct := trusted.http.URL // http://127.0.0.1:PORT
	host := strings.TrimPrefix(direct, "http://")
	for _, tc := range []struct{ proto, host, want string }{
		{"https", "rv.example.org", "https://rv.example.org"},
		{"HTTPS", "rv.example.org:8448", "https://rv.example.org:8448"},
		{"https", "", "https://" + host},
		{"", "rv.example.org", "http://rv.example.org"},
		{"https, http", "rv.example.org, internal.lan", "https://rv.example.org"},
		{"https", "[2001:db8::1]:8443", "https://[2001:db8::1]:8443"},
		{"", "", direct},
		{"javascript", "", direct},
		{"", "rv.example.org/evil", direct},
		{"", "user@rv.example.org", direct},
		{"", "rv.example.org:99999", direct},
		{"", "rv.example.org:", direct},
		{"", "[not-an-ip]", direct},
		{"", "<script>", direct},
	} {
		if got := urlOf(trusted, forwarded(tc.proto, tc.host)); got != tc.want {
			t.Errorf("trusted proxy, proto %q host %q: base %q, want %q", tc.proto, tc.host, got, tc.want)
		}
	}
	// The URL works where the headers say it does: here, directly.
	sessionURL := trusted.do(http.MethodPost, pathETagCreate, "y", forwarded("http", host)...).str(t, "url")
	trusted.do(http.MethodGet, sessionURL, "").expectStatus(t, http.StatusOK)

	// From a peer that is not a trusted proxy the headers are ignored,
	// also when X-Forwarded-For is trusted for counting clients.
	for _, cfg := range []Config{
		{},
		{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}},
		{TrustForwardedFor: true},
	} {
		env := newTestEnv(t, cfg)
		if got := urlOf(env, forwarded("https", "rv.example.org")); got != env.http.URL {
			t.Errorf("%+v: base %q, want the request's own %q", cfg, got, env.http.URL)
		}
	}

	// PublicURL wins over everything.
	public := newTestEnv(t, Config{PublicURL: "https://matrix.example.net/", TrustedProxies: loopbackProxy})
	if got := urlOf(public, forwarded("http", "rv.example.org")); got != "https://matrix.example.net" {
		t.Errorf("with PublicURL: base %q", got)
	}
}

// TestValidateTrustedProxies: a zero (invalid) prefix is a config error.
func TestValidateTrustedProxies(t *testing.T) {
	if err := (Config{TrustedProxies: []netip.Prefix{{}}}).Validate(); err == nil || !strings.Contains(err.Error(), "trusted proxy") {
		t.Fatalf("Validate = %v", err)
	}
	if err := (Config{TrustedProxies: loopbackProxy}).Validate(); err != nil {
		t.Fatal(err)
	}
}
