package rendezvous

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// pair creates a session as G and joins it as S.
func pair4388(t *testing.T, f *fake4388) (g, s *MSC4388Session) {
	t.Helper()
	ctx := testCtx(t)
	c := f.client(t, nil)
	g, err := c.Create(ctx)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	s, err = c.Join(ctx, g.BaseURL(), g.ID())
	if err != nil {
		t.Fatalf("Join: %v", err)
	}
	return g, s
}

func TestMSC4388PingPong(t *testing.T) {
	for _, path := range []APIPath{PathUnstable, PathStable} {
		t.Run(string(path), func(t *testing.T) {
			f := newFake4388(t, path)
			ctx := testCtx(t)
			g, s := pair4388(t, f)
			if g.Token() == "" || g.Token() != s.Token() {
				t.Fatalf("tokens after join: G %q S %q", g.Token(), s.Token())
			}
			if until := time.Until(g.ExpiresAt()); until < 119*time.Second || until > 121*time.Second {
				t.Fatalf("ExpiresAt %v from now, want about 120 s", until)
			}
			if err := s.Send(ctx, "initiate"); err != nil {
				t.Fatalf("S Send: %v", err)
			}
			got, err := g.Receive(ctx, vocab.PaceReply)
			if err != nil || got != "initiate" {
				t.Fatalf("G Receive = %q, %v", got, err)
			}
			if g.Token() != s.Token() {
				t.Fatalf("G token %q, want S's write token %q", g.Token(), s.Token())
			}
			if err := g.Send(ctx, "ok"); err != nil {
				t.Fatalf("G Send: %v", err)
			}
			got, err = s.Receive(ctx, vocab.PaceHuman)
			if err != nil || got != "ok" {
				t.Fatalf("S Receive = %q, %v", got, err)
			}
			for _, l := range f.log {
				if !strings.Contains(l, string(path)) {
					t.Fatalf("request %q off the configured path", l)
				}
			}
			if err := g.Cancel(ctx); err != nil {
				t.Fatalf("Cancel: %v", err)
			}
			if _, err := s.Receive(ctx, vocab.PaceReply); !errors.Is(err, ErrExpired) {
				t.Fatalf("Receive after cancel: %v, want ErrExpired", err)
			}
			if err := g.Cancel(ctx); !errors.Is(err, ErrExpired) {
				t.Fatalf("second Cancel: %v, want ErrExpired", err)
			}
		})
	}
}

// Our own write's token comes back on GETs until the peer writes; Receive
// must not hand our payload back to us.
func TestMSC4388ReceiveIgnoresOwnWrite(t *testing.T) {
	f := newFake4388(t, PathUnstable)
	_, s := pair4388(t, f)
	if err := s.Send(testCtx(t), "mine"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Millisecond)
	defer cancel()
	got, err := s.Receive(ctx, vocab.PaceReply)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Receive = %q, %v; want a timeout", got, err)
	}
}

func TestMSC4388Discover(t *testing.T) {
	f := newFake4388(t, PathUnstable)
	ctx := testCtx(t)
	if ok, err := f.client(t, nil).Discover(ctx); !ok || err != nil {
		t.Fatalf("Discover = %v, %v", ok, err)
	}
	f.createAvailable = false
	if ok, err := f.client(t, nil).Discover(ctx); ok || err != nil {
		t.Fatalf("Discover with create_available false = %v, %v", ok, err)
	}
	f.createAvailable = true
	f.requireAuth = "secret-token"
	_, err := f.client(t, nil).Discover(ctx)
	var he *HTTPError
	if !errors.Is(err, ErrNeedsAccount) || !errors.As(err, &he) || he.Status != 401 || he.Errcode != "M_MISSING_TOKEN" {
		t.Fatalf("Discover without token: %v", err)
	}
	authed := f.client(t, func(c *ClientConfig) { c.AccessToken = "secret-token" })
	if ok, err := authed.Discover(ctx); !ok || err != nil {
		t.Fatalf("Discover with token = %v, %v", ok, err)
	}
	g, err := authed.Create(ctx)
	if err != nil {
		t.Fatalf("Create with token: %v", err)
	}
	if _, err := g.Receive(outageCtx(t), vocab.PaceReply); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Receive: %v", err)
	}
	if f.sessionAuthSeen {
		t.Fatal("the access token was sent to a session URL")
	}
	if _, err := f.client(t, nil).Create(ctx); !errors.Is(err, ErrNeedsAccount) {
		t.Fatalf("Create without token: %v", err)
	}
	f.disabled = true
	if _, err := authed.Discover(ctx); !errors.Is(err, ErrNotEnabled) {
		t.Fatalf("Discover on disabled server: %v", err)
	}
}

func shortCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Millisecond)
	t.Cleanup(cancel)
	return ctx
}

func TestMSC4388TokenNeverPrinted(t *testing.T) {
	cfg := ClientConfig{AccessToken: "syt_supersecret"}
	for _, s := range []string{
		strings.Join([]string{cfg.AccessToken.String()}, ""),
		sprintAll(cfg), sprintAll(&cfg),
	} {
		if strings.Contains(s, "supersecret") {
			t.Fatalf("token leaked: %s", s)
		}
	}
}

func TestMSC4388ConcurrentWrite(t *testing.T) {
	for _, code := range []string{ErrcodeConcurrentWriteUnstable, ErrcodeConcurrentWrite} {
		t.Run(code, func(t *testing.T) {
			f := newFake4388(t, PathUnstable)
			f.concurrentErr = code
			ctx := testCtx(t)
			g, s := pair4388(t, f)
			if err := s.Send(ctx, "from S"); err != nil {
				t.Fatal(err)
			}
			// G has not read S's write: its token is stale.
			err := g.Send(ctx, "from G")
			var he *HTTPError
			if !errors.Is(err, ErrConcurrentWrite) || !errors.As(err, &he) || he.Status != 409 || he.Errcode != code {
				t.Fatalf("Send with stale token: %v", err)
			}
		})
	}
}

func TestMSC4388StatusMapping(t *testing.T) {
	cases := []struct {
		name   string
		status int
		code   string
		want   error
	}{
		{"expired", 404, ErrcodeNotFound, ErrExpired},
		{"disabled", 404, ErrcodeUnrecognized, ErrNotEnabled},
		{"too large", 413, "M_TOO_LARGE", ErrTooLarge},
		{"forbidden", 403, "M_FORBIDDEN", ErrForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake4388(t, PathUnstable)
			g, _ := pair4388(t, f)
			f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
				matrixError(w, tc.status, tc.code, "injected")
				return true
			})
			_, err := g.Receive(testCtx(t), vocab.PaceReply)
			var he *HTTPError
			if !errors.Is(err, tc.want) || !errors.As(err, &he) || he.Status != tc.status || he.Message != "injected" {
				t.Fatalf("Receive: %v, want %v", err, tc.want)
			}
			if err := g.Send(testCtx(t), "x"); !errors.Is(err, tc.want) {
				t.Fatalf("Send: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestMSC4388TooLargeFromRealCheck(t *testing.T) {
	f := newFake4388(t, PathUnstable)
	_, s := pair4388(t, f)
	if err := s.Send(testCtx(t), strings.Repeat("a", 4097)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Send 4097 bytes: %v", err)
	}
}

func TestMSC4388RateLimit(t *testing.T) {
	cases := []struct {
		name string
		set  func(w http.ResponseWriter)
		min  time.Duration
	}{
		{"Retry-After header", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "1")
			matrixError(w, 429, "M_LIMIT_EXCEEDED", "slow down")
		}, 900 * time.Millisecond},
		{"retry_after_ms", func(w http.ResponseWriter) {
			writeJSON(w, 429, map[string]any{"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": 150})
		}, 140 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake4388(t, PathUnstable)
			g, s := pair4388(t, f)
			if err := s.Send(testCtx(t), "hello"); err != nil {
				t.Fatal(err)
			}
			var n atomic.Int32
			f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
				if n.Add(1) == 1 {
					tc.set(w)
					return true
				}
				return false
			})
			start := time.Now()
			got, err := g.Receive(testCtx(t), vocab.PaceReply)
			if err != nil || got != "hello" {
				t.Fatalf("Receive = %q, %v", got, err)
			}
			if el := time.Since(start); el < tc.min {
				t.Fatalf("retried after %v, server asked for at least %v", el, tc.min)
			}
		})
	}
}

func TestMSC4388RateLimitBoundedAndExhausted(t *testing.T) {
	f := newFake4388(t, PathUnstable)
	g, _ := pair4388(t, f)
	var n atomic.Int32
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		n.Add(1)
		w.Header().Set("Retry-After", "3600")
		matrixError(w, 429, "M_LIMIT_EXCEEDED", "slow down")
		return true
	})
	c := f.client(t, func(c *ClientConfig) { c.Retry.MaxRateLimitWait = 20 * time.Millisecond })
	s, err := c.Join(testCtx(t), g.BaseURL(), g.ID())
	if s != nil || !errors.Is(err, ErrRateLimited) {
		t.Fatalf("Join under permanent 429: %v", err)
	}
	if n.Load() != int32(fastRetry.Attempts) {
		t.Fatalf("%d attempts, want %d", n.Load(), fastRetry.Attempts)
	}
}

func TestMSC4388ServerErrorsRetried(t *testing.T) {
	f := newFake4388(t, PathUnstable)
	g, s := pair4388(t, f)
	var n atomic.Int32
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if n.Add(1) <= 2 {
			matrixError(w, 502, "", "bad gateway")
			return true
		}
		return false
	})
	if err := s.Send(testCtx(t), "after 502s"); err != nil {
		t.Fatalf("Send through two 502s: %v", err)
	}
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(503)
		return true
	})
	// A lasting outage does not end the wait by itself (only expiry
	// does); when the wait ends, the error keeps the outage's reason.
	_, err := g.Receive(outageCtx(t), vocab.PaceReply)
	var ne *NetworkError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrNetwork) || !errors.As(err, &ne) || ne.Attempts != fastRetry.Attempts {
		t.Fatalf("Receive under permanent 503: %v", err)
	}
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 503 {
		t.Fatalf("last failure not kept: %v", err)
	}
}

func TestMSC4388NetworkDown(t *testing.T) {
	f := newFake4388(t, PathUnstable)
	g, _ := pair4388(t, f)
	f.srv.Close()
	_, err := g.Receive(outageCtx(t), vocab.PaceReply)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrNetwork) {
		t.Fatalf("Receive with server gone: %v", err)
	}
}

// A PUT that landed but whose response was lost is re-sent identically; the
// server's idempotency rule answers 200 with the current token.
func TestMSC4388LostPutIdempotent(t *testing.T) {
	f := newFake4388(t, PathUnstable)
	ctx := testCtx(t)
	g, s := pair4388(t, f)
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut {
			f.applyThenDrop(w, r)
			return true
		}
		return false
	})
	if err := s.Send(ctx, "landed"); err != nil {
		t.Fatalf("Send with lost response: %v", err)
	}
	got, err := g.Receive(ctx, vocab.PaceReply)
	if err != nil || got != "landed" || g.Token() != s.Token() {
		t.Fatalf("Receive = %q, %v; tokens G %q S %q", got, err, g.Token(), s.Token())
	}
	if err := g.Send(ctx, "reply"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Receive(ctx, vocab.PaceReply); err != nil || got != "reply" {
		t.Fatalf("S Receive = %q, %v", got, err)
	}
}

// A server without the idempotency rule answers the re-sent PUT with 409;
// a GET showing our own payload proves the first attempt landed.
func TestMSC4388LostPutAdoptsToken(t *testing.T) {
	f := newFake4388(t, PathUnstable)
	f.noIdempotency = true
	ctx := testCtx(t)
	g, s := pair4388(t, f)
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut {
			f.applyThenDrop(w, r)
			return true
		}
		return false
	})
	if err := s.Send(ctx, "landed"); err != nil {
		t.Fatalf("Send with lost response: %v", err)
	}
	if got, err := g.Receive(ctx, vocab.PaceReply); err != nil || got != "landed" || g.Token() != s.Token() {
		t.Fatalf("Receive = %q, %v", got, err)
	}
	// Without a lost response, a 409 stays a concurrent write.
	f.setHook(nil)
	if err := g.Send(ctx, "reply"); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(ctx, "stale"); !errors.Is(err, ErrConcurrentWrite) {
		t.Fatalf("S Send out of turn: %v", err)
	}
}

func TestMSC4388Malformed(t *testing.T) {
	bodies := map[string]string{
		"not json":    "<html>proxy error</html>",
		"no token":    `{"data":"x","expires_in_ms":1000}`,
		"no data":     `{"sequence_token":"t","expires_in_ms":1000}`,
		"no expiry":   `{"data":"x","sequence_token":"t"}`,
		"negative":    `{"data":"x","sequence_token":"t","expires_in_ms":-1}`,
		"wrong types": `{"data":1,"sequence_token":true,"expires_in_ms":"x"}`,
		"huge":        `{"data":"` + strings.Repeat("a", maxResponseBody) + `"}`,
		"array":       `[]`,
		"null":        `null`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			f := newFake4388(t, PathUnstable)
			g, _ := pair4388(t, f)
			f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(body))
				return true
			})
			if _, err := g.Receive(testCtx(t), vocab.PaceReply); !errors.Is(err, ErrMalformedResponse) {
				t.Fatalf("Receive: %v, want ErrMalformedResponse", err)
			}
		})
	}
}

// The server's relative expiry becomes a local deadline: Receive gives up
// with ErrExpired at that time even though the server still answers.
func TestMSC4388ExpiryDeadline(t *testing.T) {
	f := newFake4388(t, PathUnstable)
	f.ttl = time.Hour // the server would keep it, but says 150 ms
	g, _ := pair4388(t, f)
	// The server states the remaining time correctly on every GET but
	// would go on serving the session afterwards.
	token, deadline := g.Token(), time.Now().Add(150*time.Millisecond)
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		left := max(0, time.Until(deadline).Milliseconds())
		writeJSON(w, 200, map[string]any{"data": "", "sequence_token": token, "expires_in_ms": left})
		return true
	})
	start := time.Now()
	_, err := g.Receive(testCtx(t), vocab.PaceReply)
	if !errors.Is(err, ErrExpired) {
		t.Fatalf("Receive: %v, want ErrExpired", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("took %v", el)
	}
	if err := g.Send(testCtx(t), "late"); !errors.Is(err, ErrExpired) {
		t.Fatalf("Send after expiry: %v", err)
	}
}

func TestMSC4388ContextCancel(t *testing.T) {
	f := newFake4388(t, PathUnstable)
	g, _ := pair4388(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel)
	if _, err := g.Receive(ctx, vocab.PaceHuman); !errors.Is(err, context.Canceled) {
		t.Fatalf("Receive: %v, want context.Canceled", err)
	}
}

// A create answer whose session ends in under a second (expires_in_ms 0
// included) is malformed: no QR code for it could be scanned, and taking
// it would have the caller create session after session.
func TestMSC4388CreateRefusesInstantExpiry(t *testing.T) {
	for _, ttl := range []time.Duration{0, 999 * time.Millisecond} {
		f := newFake4388(t, PathUnstable)
		f.ttl = ttl
		if _, err := f.client(t, nil).Create(testCtx(t)); !errors.Is(err, ErrMalformedResponse) {
			t.Errorf("Create with expires_in_ms %d: %v, want ErrMalformedResponse", ttl.Milliseconds(), err)
		}
	}
	f := newFake4388(t, PathUnstable)
	f.ttl = time.Second
	if _, err := f.client(t, nil).Create(testCtx(t)); err != nil {
		t.Errorf("Create with expires_in_ms 1000: %v", err)
	}
}

func TestMSC4388InsecureURL(t *testing.T) {
	if _, err := NewClient(ClientConfig{BaseURL: "http://matrix.example.org"}); !errors.Is(err, ErrInsecureURL) {
		t.Fatalf("NewClient over http: %v", err)
	}
	f := newFake4388(t, PathUnstable)
	if _, err := f.client(t, nil).Join(testCtx(t), "http://evil.example", "id"); !errors.Is(err, ErrInsecureURL) {
		t.Fatalf("Join over http: %v", err)
	}
}

func sprintAll(v any) string { return fmt.Sprintf("%v %+v %#v %s", v, v, v, v) }

// A 501 on create is an answer ("not here"), not a hiccup to retry: it must
// come back at once as ErrNotEnabled, so a caller can try elsewhere.
func TestCreate501IsNotEnabledWithoutRetries(t *testing.T) {
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.WriteHeader(http.StatusNotImplemented)
	}))
	defer srv.Close()
	c, err := NewClient(ClientConfig{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(testCtx(t)); !errors.Is(err, ErrNotEnabled) || calls != 1 {
		t.Fatalf("Create: %v after %d requests, want ErrNotEnabled after 1", err, calls)
	}
}

// outageCtx bounds a wait that only the caller can end: a Receive during a
// lasting outage of a session that has not expired.
func outageCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	t.Cleanup(cancel)
	return ctx
}
