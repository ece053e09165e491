package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestSessionCap: at MaxSessions live sessions new ones are refused
// with 429 M_LIMIT_EXCEEDED (Retry-After = until the oldest expires) and
// no live session is evicted; a DELETE or an expiry frees a slot at once.
func TestSessionCap(t *testing.T) {
	env := newTestEnv(t, Config{MaxSessions: 3, TTL: 100 * time.Second, ETagTTL: 50 * time.Second})
	p := pathMSC4388Unstable
	id1, _ := env.create4388(p, "1")
	env.clock.Advance(10 * time.Second)
	id2, _ := env.create4388(p, "2")
	etagURL, _ := env.createETag("3") // both generations share the cap

	full := env.do(http.MethodPost, p, `{"data":"4"}`)
	full.expectError(t, http.StatusTooManyRequests, "M_LIMIT_EXCEEDED")
	// The 2024 session (created at 10 s, TTL 50 s) expires first, in 50 s.
	if full.header.Get("Retry-After") != "50" || full.num(t, "retry_after_ms") != 50000 {
		t.Fatalf("Retry-After %q, retry_after_ms %v; want 50 s", full.header.Get("Retry-After"), full.num(t, "retry_after_ms"))
	}
	env.do(http.MethodPost, pathETagCreate, "4", "Content-Type", "text/plain").expectError(t, http.StatusTooManyRequests, "M_LIMIT_EXCEEDED")
	for _, id := range []string{id1, id2} {
		env.do(http.MethodGet, p+"/"+id, "").expectStatus(t, http.StatusOK)
	}
	env.do(http.MethodGet, etagURL, "").expectStatus(t, http.StatusOK)

	env.do(http.MethodDelete, p+"/"+id2, "").expectStatus(t, http.StatusOK)
	env.create4388(p, "5")
	env.do(http.MethodPost, p, `{"data":"6"}`).expectStatus(t, http.StatusTooManyRequests)

	// At 60 s the 2024 session has expired: reclaimed on the next create,
	// without waiting for the sweeper.
	env.clock.Advance(50 * time.Second)
	env.create4388(p, "7")
	if n := env.server.store.size(); n != 3 {
		t.Fatalf("store holds %d sessions, want 3", n)
	}
}

// TestUnlimitedSessions: a negative MaxSessions lifts the cap.
func TestUnlimitedSessions(t *testing.T) {
	env := newTestEnv(t, Config{MaxSessions: -1})
	for i := range DefaultMaxSessions + 10 {
		env.server.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, pathMSC4388Unstable, strings.NewReader(fmt.Sprintf(`{"data":"%d"}`, i))))
	}
	if n := env.server.store.size(); n != DefaultMaxSessions+10 {
		t.Fatalf("%d sessions stored", n)
	}
}

// TestRateLimit: per-client token bucket; 429 with Retry-After and
// retry_after_ms; other clients unaffected; tokens come back with time;
// CORS preflights are not counted.
func TestRateLimit(t *testing.T) {
	env := newTestEnv(t, Config{Rate: RequestRate{Requests: 5, Per: time.Minute}, TrustForwardedFor: true})
	from := func(ip string) []string { return []string{"X-Forwarded-For", "192.0.2.99, " + ip} }
	for range 5 {
		env.do(http.MethodGet, pathMSC4388Unstable, "", from("198.51.100.1")...).expectStatus(t, http.StatusOK)
	}
	env.do(http.MethodOptions, pathMSC4388Unstable, "", from("198.51.100.1")...).expectStatus(t, http.StatusNoContent)
	limited := env.do(http.MethodGet, pathMSC4388Unstable, "", from("198.51.100.1")...)
	limited.expectError(t, http.StatusTooManyRequests, "M_LIMIT_EXCEEDED")
	if limited.header.Get("Retry-After") != "12" || limited.num(t, "retry_after_ms") != 12000 {
		t.Fatalf("Retry-After %q, retry_after_ms %v; want 12 s", limited.header.Get("Retry-After"), limited.num(t, "retry_after_ms"))
	}
	// A refused request does not consume a token.
	env.do(http.MethodGet, pathMSC4388Unstable, "", from("198.51.100.1")...).expectStatus(t, http.StatusTooManyRequests)
	env.do(http.MethodPost, pathETagCreate, "x", append(from("198.51.100.2"), "Content-Type", "text/plain")...).expectStatus(t, http.StatusCreated)

	env.clock.Advance(12 * time.Second)
	env.do(http.MethodGet, pathMSC4388Unstable, "", from("198.51.100.1")...).expectStatus(t, http.StatusOK)
	env.do(http.MethodGet, pathMSC4388Unstable, "", from("198.51.100.1")...).expectStatus(t, http.StatusTooManyRequests)
}

// TestRateLimitByRemoteAddr: without TrustForwardedFor the header is
// ignored and the connection's address counts.
func TestRateLimitByRemoteAddr(t *testing.T) {
	env := newTestEnv(t, Config{Rate: RequestRate{Requests: 2, Per: time.Hour}})
	for i := range 2 {
		env.do(http.MethodGet, pathMSC4388Unstable, "", "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i)).expectStatus(t, http.StatusOK)
	}
	env.do(http.MethodGet, pathMSC4388Unstable, "", "X-Forwarded-For", "203.0.113.9").expectStatus(t, http.StatusTooManyRequests)
}

// TestNoRateLimitByDefault: Config{} (zero Rate) is unlimited,
// DefaultConfig is not.
func TestNoRateLimitByDefault(t *testing.T) {
	env := newTestEnv(t, Config{})
	for range 300 {
		rec := httptest.NewRecorder()
		env.server.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, pathMSC4388Unstable, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
	}
	if DefaultConfig().Rate.Unlimited() {
		t.Fatal("DefaultConfig has no rate limit")
	}
}

// TestClientLimiterBounded: the per-client table never exceeds its cap and
// forgets idle clients when swept.
func TestClientLimiterBounded(t *testing.T) {
	l := newClientLimiter(RequestRate{Requests: 10, Per: time.Second}, 100)
	now := time.Unix(1000, 0)
	for i := range 10000 {
		if ok, _ := l.allow(fmt.Sprintf("client-%d", i), now); !ok {
			t.Fatalf("new client %d refused", i)
		}
		if n := l.size(); n > 100 {
			t.Fatalf("table grew to %d", n)
		}
	}
	// Recently seen clients keep their bucket when the table is full.
	for range 9 {
		l.allow("client-9999", now)
	}
	if ok, _ := l.allow("client-9999", now); ok {
		t.Fatal("11th request within the burst allowed")
	}
	l.sweep(now) // buckets just used are not full: kept
	if n := l.size(); n != 100 {
		t.Fatalf("sweep dropped active clients: %d left", n)
	}
	l.sweep(now.Add(time.Second)) // refilled: all idle
	if n := l.size(); n != 0 {
		t.Fatalf("sweep kept %d idle clients", n)
	}
}

// TestClientKey: IPv4 by address, IPv6 by /64, X-Forwarded-For only when
// trusted and only its last entry.
func TestClientKey(t *testing.T) {
	req := func(remote string, xff ...string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = remote
		for _, v := range xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		return r
	}
	for _, tc := range []struct {
		r     *http.Request
		trust bool
		want  string
	}{
		{req("192.0.2.1:5000"), false, "192.0.2.1"},
		{req("[2001:db8:1:2:3:4:5:6]:5000"), false, "2001:db8:1:2::/64"},
		{req("[2001:db8:1:2:ffff::1]:1"), false, "2001:db8:1:2::/64"},
		{req("[::ffff:192.0.2.7]:1"), false, "192.0.2.7"},
		{req("[fe80::1%eth0]:1"), false, "fe80::/64"},
		{req("192.0.2.1:5000", "198.51.100.1"), false, "192.0.2.1"},
		{req("192.0.2.1:5000", "10.0.0.1, 198.51.100.1"), true, "198.51.100.1"},
		{req("192.0.2.1:5000", "10.0.0.1", "198.51.100.2 "), true, "198.51.100.2"},
		{req("192.0.2.1:5000", "garbage"), true, "192.0.2.1"},
		{req("not-an-address"), false, "not-an-address"},
	} {
		if got := newProxyPolicy(nil, tc.trust).clientKey(tc.r); got != tc.want {
			t.Errorf("key(%s, %v, trust=%v) = %q, want %q", tc.r.RemoteAddr, tc.r.Header.Values("X-Forwarded-For"), tc.trust, got, tc.want)
		}
	}
}

func TestParseRequestRate(t *testing.T) {
	for _, tc := range []struct {
		text string
		want RequestRate
		bad  bool
	}{
		{"60/min", RequestRate{Requests: 60, Per: time.Minute}, false},
		{"10/s", RequestRate{Requests: 10, Per: time.Second}, false},
		{" 100 / hour ", RequestRate{Requests: 100, Per: time.Hour}, false},
		{"5/30s", RequestRate{Requests: 5, Per: 30 * time.Second}, false},
		{"60/min,burst=10", RequestRate{Requests: 60, Per: time.Minute, Burst: 10}, false},
		{"0", RequestRate{}, false},
		{"unlimited", RequestRate{}, false},
		{"0/s", RequestRate{}, false},
		{"", RequestRate{}, true},
		{"60", RequestRate{}, true},
		{"-1/s", RequestRate{}, true},
		{"x/s", RequestRate{}, true},
		{"10/fortnight", RequestRate{}, true},
		{"10/-1s", RequestRate{}, true},
		{"10/s,burst=0", RequestRate{}, true},
		{"10/s,speed=3", RequestRate{}, true},
	} {
		got, err := ParseRequestRate(tc.text)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseRequestRate(%q) = %+v, %v; want %+v, error %v", tc.text, got, err, tc.want, tc.bad)
		}
	}
	for _, r := range []RequestRate{{}, {Requests: 60, Per: time.Minute}, {Requests: 3, Per: 90 * time.Second, Burst: 7}} {
		back, err := ParseRequestRate(r.String())
		if err != nil || back != r {
			t.Errorf("round trip of %+v via %q = %+v, %v", r, r.String(), back, err)
		}
	}
}

// TestSweeper: the background sweeper reclaims expired sessions and
// idle limiter entries without any request touching them; Close stops it.
func TestSweeper(t *testing.T) {
	env := newTestEnv(t, Config{TTL: time.Second, SweepInterval: 5 * time.Millisecond, Rate: RequestRate{Requests: 100, Per: time.Second}})
	for range 5 {
		env.create4388(pathMSC4388Unstable, "x")
	}
	env.clock.Advance(time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for env.server.store.size() != 0 || env.server.limiter.size() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("sweeper left %d sessions, %d limiter entries", env.server.store.size(), env.server.limiter.size())
		}
		time.Sleep(5 * time.Millisecond)
	}
	env.server.Close()
	env.server.Close() // idempotent
	env.create4388(pathMSC4388Unstable, "still serving after Close")
}

// TestStoreShrinks: after a burst the map is rebuilt smaller, so its
// buckets do not stay at the peak size.
func TestStoreShrinks(t *testing.T) {
	st := newStore(-1, 0)
	now := time.Unix(0, 0)
	for i := range 5000 {
		st.add(now, fmt.Sprint(i), &session{kind: kindMSC4388, expires: now.Add(time.Duration(i%10+1) * time.Second)})
	}
	st.reclaimExpired(now.Add(9 * time.Second))
	if st.size() != 500 || st.peak != 500 {
		t.Fatalf("size %d, peak %d after reclaiming 90%%", st.size(), st.peak)
	}
}
