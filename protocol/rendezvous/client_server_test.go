package rendezvous_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/rendezvous/server"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// These tests run the clients against qrlogin's rendezvous server (package
// server) over real HTTP on 127.0.0.1, for what the fakes cannot prove:
// that the typed errors, the lost-response recovery and the expiry
// handling work with the server qrlogin ships. The plain ping-pong interop
// is in server/interop_test.go.

// startServer serves server.New(cfg) behind an optional middleware.
func startServer(t testing.TB, cfg server.Config, wrap func(http.Handler) http.Handler) *httptest.Server {
	t.Helper()
	rv := server.New(cfg)
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
				rendezvous.DropConnection(t, w)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func newServerClients(t testing.TB, url string) (*rendezvous.Client, *rendezvous.ETagClient) {
	t.Helper()
	c, err := rendezvous.NewClient(rendezvous.ClientConfig{BaseURL: url, Poll: rendezvous.FastPoll, Retry: rendezvous.FastRetry})
	if err != nil {
		t.Fatal(err)
	}
	e, err := rendezvous.NewETagClient(rendezvous.ETagConfig{HomeserverURL: url, Poll: rendezvous.FastPoll, Retry: rendezvous.FastRetry})
	if err != nil {
		t.Fatal(err)
	}
	return c, e
}

func TestClientVsServerTypedErrorsMSC4388(t *testing.T) {
	srv := startServer(t, server.Config{}, nil)
	c, _ := newServerClients(t, srv.URL)
	ctx := rendezvous.TestCtx(t)
	g, err := c.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Join(ctx, srv.URL, g.ID())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(ctx, strings.Repeat("a", 4097)); !errors.Is(err, rendezvous.ErrTooLarge) {
		t.Fatalf("Send 4097 bytes: %v, want rendezvous.ErrTooLarge", err)
	}
	if err := s.Send(ctx, strings.Repeat("a", 4096)); err != nil {
		t.Fatalf("Send 4096 bytes: %v", err)
	}
	err = g.Send(ctx, "out of turn")
	var he *rendezvous.HTTPError
	if !errors.Is(err, rendezvous.ErrConcurrentWrite) || !errors.As(err, &he) || he.Status != http.StatusConflict {
		t.Fatalf("Send with a stale token: %v, want rendezvous.ErrConcurrentWrite", err)
	}
	if err := g.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Receive(ctx, vocab.PaceReply); !errors.Is(err, rendezvous.ErrExpired) {
		t.Fatalf("Receive after Cancel: %v, want rendezvous.ErrExpired", err)
	}
	if _, err := c.Join(ctx, srv.URL, "01JBOGUSBOGUSBOGUSBOGUSBOG"); !errors.Is(err, rendezvous.ErrExpired) {
		t.Fatalf("Join unknown ID: %v, want rendezvous.ErrExpired", err)
	}
}

func TestClientVsServerTypedErrorsETag(t *testing.T) {
	srv := startServer(t, server.Config{}, nil)
	_, e := newServerClients(t, srv.URL)
	ctx := rendezvous.TestCtx(t)
	g, err := e.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.Join(ctx, g.URL())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(ctx, strings.Repeat("a", 4097)); !errors.Is(err, rendezvous.ErrTooLarge) {
		t.Fatalf("Send 4097 bytes: %v, want rendezvous.ErrTooLarge", err)
	}
	if err := s.Send(ctx, "first"); err != nil {
		t.Fatal(err)
	}
	err = g.Send(ctx, "out of turn")
	var he *rendezvous.HTTPError
	if !errors.Is(err, rendezvous.ErrConcurrentWrite) || !errors.As(err, &he) || he.Status != http.StatusPreconditionFailed {
		t.Fatalf("Send with a stale ETag: %v, want rendezvous.ErrConcurrentWrite", err)
	}
	if err := s.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Receive(ctx, vocab.PaceReply); !errors.Is(err, rendezvous.ErrExpired) {
		t.Fatalf("Receive after Cancel: %v, want rendezvous.ErrExpired", err)
	}
}

func TestClientVsServerNotEnabled(t *testing.T) {
	srv := startServer(t, server.Config{Mode: server.ModeOff, DisableETag: true}, nil)
	c, e := newServerClients(t, srv.URL)
	if _, err := c.Discover(rendezvous.TestCtx(t)); !errors.Is(err, rendezvous.ErrNotEnabled) {
		t.Fatalf("Discover with MSC4388 off: %v", err)
	}
	if _, err := c.Create(rendezvous.TestCtx(t)); !errors.Is(err, rendezvous.ErrNotEnabled) {
		t.Fatalf("Create with MSC4388 off: %v", err)
	}
	if _, err := e.Create(rendezvous.TestCtx(t)); !errors.Is(err, rendezvous.ErrNotEnabled) {
		t.Fatalf("2024 Create with the ETag API off: %v", err)
	}
}

// A PUT that reached the server but whose answer was lost: both retry
// rules of the server, both generations.
func TestClientVsServerLostPut(t *testing.T) {
	for _, rule := range []server.RetryRule{server.RetryRuleMSC, server.RetryRuleSynapse} {
		var dropped atomic.Int32
		srv := startServer(t, server.Config{RetryRule: rule}, dropFirstPut(t, &dropped))
		c, e := newServerClients(t, srv.URL)
		ctx := rendezvous.TestCtx(t)

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
// with rendezvous.ErrExpired about when the server drops the session.
func TestClientVsServerExpiry(t *testing.T) {
	srv := startServer(t, server.Config{TTL: 1500 * time.Millisecond, ETagTTL: 2 * time.Second}, nil)
	c, e := newServerClients(t, srv.URL)
	ctx := rendezvous.TestCtx(t)
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
	if _, err := g.Receive(ctx, vocab.PaceReply); !errors.Is(err, rendezvous.ErrExpired) {
		t.Fatalf("MSC4388 Receive: %v, want rendezvous.ErrExpired", err)
	}
	if _, err := eg.Receive(ctx, vocab.PaceReply); !errors.Is(err, rendezvous.ErrExpired) {
		t.Fatalf("2024 Receive: %v, want rendezvous.ErrExpired", err)
	}
	if el := time.Since(start); el > 4*time.Second {
		t.Fatalf("expiry noticed after %v", el)
	}
}

// The server can stand in for a standalone 2024 rendezvous server.
func TestClientVsServerAsStandalone2024(t *testing.T) {
	srv := startServer(t, server.Config{}, nil)
	e, err := rendezvous.NewETagClient(rendezvous.ETagConfig{Poll: rendezvous.FastPoll, Retry: rendezvous.FastRetry})
	if err != nil {
		t.Fatal(err)
	}
	ctx := rendezvous.TestCtx(t)
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

func benchServerPair4388(b *testing.B) (rendezvous.Session, rendezvous.Session) {
	srv := startServer(b, server.Config{TTL: time.Hour, MaxSessions: -1}, nil)
	c, err := rendezvous.NewClient(rendezvous.ClientConfig{BaseURL: srv.URL})
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
	rendezvous.BenchHops(b, s, g, rendezvous.ReplyInterval)
}

func BenchmarkHopETagRealServer(b *testing.B) {
	srv := startServer(b, server.Config{ETagTTL: time.Hour, MaxSessions: -1}, nil)
	e, err := rendezvous.NewETagClient(rendezvous.ETagConfig{HomeserverURL: srv.URL})
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
	rendezvous.BenchHops(b, s, g, rendezvous.ReplyInterval)
}
