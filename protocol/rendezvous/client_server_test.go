package rendezvous

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// These tests run the clients against this package's Server (NewServer)
// over real HTTP on 127.0.0.1, for what the fakes cannot prove: that the
// typed errors, the lost-response recovery and the expiry handling work
// with the server qrlogin ships. The plain ping-pong interop is in
// server_interop_test.go.

// startServer serves NewServer(cfg) behind an optional middleware.
func startServer(t testing.TB, cfg ServerConfig, wrap func(http.Handler) http.Handler) *httptest.Server {
	t.Helper()
	rv := NewServer(cfg)
	t.Cleanup(rv.Close)
	var h http.Handler = rv
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// dropFirstPut lets the server process the first PUT, then drops the
// connection so the client never sees the answer.
func dropFirstPut(t testing.TB, dropped *atomic.Int32) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut && dropped.Add(1) == 1 {
				next.ServeHTTP(httptest.NewRecorder(), r)
				dropConnection(t, w)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func newServerClients(t testing.TB, url string) (*Client, *ETagClient) {
	t.Helper()
	c, err := NewClient(ClientConfig{BaseURL: url, Poll: fastPoll, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewETagClient(ETagConfig{HomeserverURL: url, Poll: fastPoll, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	return c, e
}

func TestClientVsServerTypedErrorsMSC4388(t *testing.T) {
	srv := startServer(t, ServerConfig{}, nil)
	c, _ := newServerClients(t, srv.URL)
	ctx := testCtx(t)
	g, err := c.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Join(ctx, srv.URL, g.ID())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(ctx, strings.Repeat("a", 4097)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Send 4097 bytes: %v, want ErrTooLarge", err)
	}
	if err := s.Send(ctx, strings.Repeat("a", 4096)); err != nil {
		t.Fatalf("Send 4096 bytes: %v", err)
	}
	err = g.Send(ctx, "out of turn")
	var he *HTTPError
	if !errors.Is(err, ErrConcurrentWrite) || !errors.As(err, &he) || he.Status != http.StatusConflict {
		t.Fatalf("Send with a stale token: %v, want ErrConcurrentWrite", err)
	}
	if err := g.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Receive(ctx, vocab.PaceReply); !errors.Is(err, ErrExpired) {
		t.Fatalf("Receive after Cancel: %v, want ErrExpired", err)
	}
	if _, err := c.Join(ctx, srv.URL, "01JBOGUSBOGUSBOGUSBOGUSBOG"); !errors.Is(err, ErrExpired) {
		t.Fatalf("Join unknown ID: %v, want ErrExpired", err)
	}
}

func TestClientVsServerTypedErrorsETag(t *testing.T) {
	srv := startServer(t, ServerConfig{}, nil)
	_, e := newServerClients(t, srv.URL)
	ctx := testCtx(t)
	g, err := e.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.Join(ctx, g.URL())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(ctx, strings.Repeat("a", 4097)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Send 4097 bytes: %v, want ErrTooLarge", err)
	}
	if err := s.Send(ctx, "first"); err != nil {
		t.Fatal(err)
	}
	err = g.Send(ctx, "out of turn")
	var he *HTTPError
	if !errors.Is(err, ErrConcurrentWrite) || !errors.As(err, &he) || he.Status != http.StatusPreconditionFailed {
		t.Fatalf("Send with a stale ETag: %v, want ErrConcurrentWrite", err)
	}
	if err := s.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Receive(ctx, vocab.PaceReply); !errors.Is(err, ErrExpired) {
		t.Fatalf("Receive after Cancel: %v, want ErrExpired", err)
	}
}

func TestClientVsServerNotEnabled(t *testing.T) {
	srv := startServer(t, ServerConfig{Mode: ModeOff, DisableETag: true}, nil)
	c, e := newServerClients(t, srv.URL)
	if _, err := c.Discover(testCtx(t)); !errors.Is(err, ErrNotEnabled) {
		t.Fatalf("Discover with MSC4388 off: %v", err)
	}
	if _, err := c.Create(testCtx(t)); !errors.Is(err, ErrNotEnabled) {
		t.Fatalf("Create with MSC4388 off: %v", err)
	}
	if _, err := e.Create(testCtx(t)); !errors.Is(err, ErrNotEnabled) {
		t.Fatalf("2024 Create with the ETag API off: %v", err)
	}
}

// A PUT that reached the server but whose answer was lost: both retry
// rules of the server, both generations.
func TestClientVsServerLostPut(t *testing.T) {
	for _, rule := range []RetryRule{RetryRuleMSC, RetryRuleSynapse} {
		var dropped atomic.Int32
		srv := startServer(t, ServerConfig{RetryRule: rule}, dropFirstPut(t, &dropped))
		c, e := newServerClients(t, srv.URL)
		ctx := testCtx(t)

		g, err := c.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s, err := c.Join(ctx, srv.URL, g.ID())
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(ctx, "landed"); err != nil {
			t.Fatalf("rule %d: MSC4388 Send with lost answer: %v", rule, err)
		}
		if got, err := g.Receive(ctx, vocab.PaceReply); err != nil || got != "landed" || g.Token() != s.Token() {
			t.Fatalf("rule %d: MSC4388 Receive = %q, %v", rule, got, err)
		}
		if dropped.Load() < 2 {
			t.Fatalf("rule %d: the PUT was not retried", rule)
		}

		dropped.Store(0)
		eg, err := e.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		es, err := e.Join(ctx, eg.URL())
		if err != nil {
			t.Fatal(err)
		}
		if err := es.Send(ctx, "landed"); err != nil {
			t.Fatalf("rule %d: 2024 Send with lost answer: %v", rule, err)
		}
		if got, err := eg.Receive(ctx, vocab.PaceReply); err != nil || got != "landed" || eg.Token() != es.Token() {
			t.Fatalf("rule %d: 2024 Receive = %q, %v", rule, got, err)
		}
		if err := eg.Send(ctx, "reply"); err != nil {
			t.Fatalf("rule %d: 2024 reply: %v", rule, err)
		}
		if got, err := es.Receive(ctx, vocab.PaceReply); err != nil || got != "reply" {
			t.Fatalf("rule %d: 2024 Receive reply = %q, %v", rule, got, err)
		}
	}
}

// The server's TTL reaches the client as a local deadline: Receive ends
// with ErrExpired about when the server drops the session.
func TestClientVsServerExpiry(t *testing.T) {
	srv := startServer(t, ServerConfig{TTL: 1500 * time.Millisecond, ETagTTL: 2 * time.Second}, nil)
	c, e := newServerClients(t, srv.URL)
	ctx := testCtx(t)
	g, err := c.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if left := time.Until(g.ExpiresAt()); left <= time.Second || left > 1500*time.Millisecond {
		t.Fatalf("MSC4388 session ends in %v, want about 1.5 s", left)
	}
	eg, err := e.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if left := time.Until(eg.ExpiresAt()); left <= 0 || left > 3*time.Second {
		t.Fatalf("2024 session ends in %v, want about 2 s", left)
	}
	start := time.Now()
	if _, err := g.Receive(ctx, vocab.PaceReply); !errors.Is(err, ErrExpired) {
		t.Fatalf("MSC4388 Receive: %v, want ErrExpired", err)
	}
	if _, err := eg.Receive(ctx, vocab.PaceReply); !errors.Is(err, ErrExpired) {
		t.Fatalf("2024 Receive: %v, want ErrExpired", err)
	}
	if el := time.Since(start); el > 4*time.Second {
		t.Fatalf("expiry noticed after %v", el)
	}
}

// The server can stand in for a standalone 2024 rendezvous server.
func TestClientVsServerAsStandalone2024(t *testing.T) {
	srv := startServer(t, ServerConfig{}, nil)
	e, err := NewETagClient(ETagConfig{Poll: fastPoll, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	g, err := e.CreateAt(ctx, srv.URL+"/")
	if err != nil {
		t.Fatalf("CreateAt: %v", err)
	}
	s, err := e.Join(ctx, g.URL())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(ctx, "hello"); err != nil {
		t.Fatal(err)
	}
	if got, err := g.Receive(ctx, vocab.PaceReply); err != nil || got != "hello" {
		t.Fatalf("Receive = %q, %v", got, err)
	}
}

func benchServerPair4388(b *testing.B) (Session, Session) {
	srv := startServer(b, ServerConfig{TTL: time.Hour, MaxSessions: -1}, nil)
	c, err := NewClient(ClientConfig{BaseURL: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	g, err := c.Create(ctx)
	if err != nil {
		b.Fatal(err)
	}
	s, err := c.Join(ctx, srv.URL, g.ID())
	if err != nil {
		b.Fatal(err)
	}
	return s, g
}

func BenchmarkHopMSC4388RealServer(b *testing.B) {
	s, g := benchServerPair4388(b)
	benchHops(b, s, g, replyPoll.interval(vocab.PaceReply))
}

func BenchmarkHopETagRealServer(b *testing.B) {
	srv := startServer(b, ServerConfig{ETagTTL: time.Hour, MaxSessions: -1}, nil)
	e, err := NewETagClient(ETagConfig{HomeserverURL: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	g, err := e.Create(ctx)
	if err != nil {
		b.Fatal(err)
	}
	s, err := e.Join(ctx, g.URL())
	if err != nil {
		b.Fatal(err)
	}
	benchHops(b, s, g, replyPoll.interval(vocab.PaceReply))
}
