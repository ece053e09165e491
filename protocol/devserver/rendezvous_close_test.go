package devserver

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/protocol/rendezvous"
)

// recordRendezvous wraps the default factory and keeps every
// *rendezvous.Server it builds, so a test can see whether its sweeper
// goroutine still runs.
func recordRendezvous(t *testing.T, cfg *Config) *[]*rendezvous.Server {
	t.Helper()
	var built []*rendezvous.Server
	cfg.Rendezvous = func(o RendezvousOptions) (http.Handler, error) {
		h, err := defaultRendezvousFactory(o)
		if rv, ok := h.(*rendezvous.Server); ok {
			built = append(built, rv)
		} else if err == nil {
			t.Errorf("the default factory built a %T, not a *rendezvous.Server", h)
		}
		return h, err
	}
	return &built
}

// sweeperRunning reports whether rv's sweeper goroutine is alive: the
// goroutine dump names it with its receiver, so servers of other tests do
// not count.
func sweeperRunning(rv *rendezvous.Server) bool {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	return strings.Contains(string(buf), fmt.Sprintf("rendezvous.(*Server).sweepLoop(%p", rv))
}

// expectSweepersStopped waits briefly for every recorded sweeper to be gone
// (Close waits for the loop to return, but the goroutine leaves the dump a
// moment later).
func expectSweepersStopped(t *testing.T, built []*rendezvous.Server) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for i, rv := range built {
		for sweeperRunning(rv) {
			if time.Now().After(deadline) {
				t.Fatalf("rendezvous server %d of %d: its sweeper goroutine outlived the dev server's Close", i+1, len(built))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// TestCloseStopsRendezvousSweeper: every rendezvous.Server the dev server
// builds has its sweeper stopped by the time the dev server is closed,
// however the dev server got its base URL and whatever order Start and
// Close come in.
func TestCloseStopsRendezvousSweeper(t *testing.T) {
	t.Run("running", func(t *testing.T) {
		var cfg Config
		built := recordRendezvous(t, &cfg)
		s := startServer(t, cfg)
		if len(*built) != 1 || !sweeperRunning((*built)[0]) {
			t.Fatalf("want one running sweeper, have %d (the check below would prove nothing)", len(*built))
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		expectSweepersStopped(t, *built)
	})
	t.Run("context ends", func(t *testing.T) {
		var cfg Config
		built := recordRendezvous(t, &cfg)
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		if err := s.Start(ctx, "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		cancel()
		expectSweepersStopped(t, *built)
	})
	t.Run("base URL set twice", func(t *testing.T) {
		cfg := Config{BaseURL: "http://127.0.0.1:8008"}
		built := recordRendezvous(t, &cfg)
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.setBaseURL("http://127.0.0.1:8009"); err == nil {
			t.Fatal("a second base URL was accepted")
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		expectSweepersStopped(t, *built)
	})
	t.Run("closed before Start", func(t *testing.T) {
		var cfg Config
		built := recordRendezvous(t, &cfg)
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Start(context.Background(), "127.0.0.1:0"); err == nil {
			t.Fatal("Start after Close succeeded")
		}
		expectSweepersStopped(t, *built)
	})
}
