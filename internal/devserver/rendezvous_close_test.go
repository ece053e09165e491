package devserver

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/protocol/rendezvous/server"
)

// closeHook is the default factory's *server.Server with a Close that
// records being called: the dev server must end every one it builds, or
// its sweeper goroutine leaks.
type closeHook struct {
	*server.Server
	closed atomic.Bool
}

func (c *closeHook) Close() {
	c.closed.Store(true)
	c.Server.Close()
}

// newHooked builds a dev server whose rendezvous handlers are hooked.
func newHooked(t *testing.T, cfg Config) (*Server, func() []*closeHook) {
	t.Helper()
	var mu sync.Mutex
	var built []*closeHook
	cfg.Rendezvous = func(o RendezvousOptions) (http.Handler, error) {
		h, err := defaultRendezvousFactory(o)
		if err != nil {
			return nil, err
		}
		rv, ok := h.(*server.Server)
		if !ok {
			t.Errorf("the default factory built a %T, not a *server.Server", h)
			return h, nil
		}
		hook := &closeHook{Server: rv}
		mu.Lock()
		built = append(built, hook)
		mu.Unlock()
		return hook, nil
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, func() []*closeHook {
		mu.Lock()
		defer mu.Unlock()
		return built
	}
}

// expectAllClosed checks that want rendezvous servers were built and all
// of them closed.
func expectAllClosed(t *testing.T, built []*closeHook, want int) {
	t.Helper()
	if len(built) != want {
		t.Fatalf("%d rendezvous servers built, want %d", len(built), want)
	}
	for i, h := range built {
		if !h.closed.Load() {
			t.Errorf("rendezvous server %d of %d was never closed: its sweeper goroutine leaks", i+1, len(built))
		}
	}
}

func mustClose(t *testing.T, s *Server) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCloseStopsRendezvousSweeper: every server.Server the dev server
// builds is closed by the time the dev server is, however the dev server
// got its base URL and whatever order Start and Close come in.
func TestCloseStopsRendezvousSweeper(t *testing.T) {
	t.Run("running", func(t *testing.T) {
		s, built := newHooked(t, Config{})
		if err := s.Start(context.Background(), "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		mustClose(t, s)
		expectAllClosed(t, built(), 1)
	})
	t.Run("context ends", func(t *testing.T) {
		s, built := newHooked(t, Config{})
		ctx, cancel := context.WithCancel(context.Background())
		if err := s.Start(ctx, "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		cancel()
		deadline := time.Now().Add(2 * time.Second)
		for len(built()) == 1 && !built()[0].closed.Load() && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		expectAllClosed(t, built(), 1)
	})
	t.Run("base URL set twice", func(t *testing.T) {
		s, built := newHooked(t, Config{BaseURL: "http://127.0.0.1:8008"})
		if err := s.setBaseURL("http://127.0.0.1:8009"); err == nil {
			t.Fatal("a second base URL was accepted")
		}
		mustClose(t, s)
		expectAllClosed(t, built(), 2)
	})
	t.Run("closed before Start", func(t *testing.T) {
		s, built := newHooked(t, Config{})
		mustClose(t, s)
		if err := s.Start(context.Background(), "127.0.0.1:0"); err == nil {
			t.Fatal("Start after Close succeeded")
		}
		expectAllClosed(t, built(), 1)
	})
}

// TestCloseEndsSweeperGoroutine is the same check on the real goroutine,
// without the hook: the goroutine dump names each sweeper with its
// receiver, so servers of other tests do not count.
func TestCloseEndsSweeperGoroutine(t *testing.T) {
	var rv *server.Server
	cfg := Config{Rendezvous: func(o RendezvousOptions) (http.Handler, error) {
		h, err := defaultRendezvousFactory(o)
		rv, _ = h.(*server.Server)
		return h, err
	}}
	s := startServer(t, cfg)
	if rv == nil {
		t.Fatal("the default factory built no *server.Server")
	}
	// The sweeper goroutine is started by server.New but may not have run
	// yet; a goroutine that has not run shows no receiver.
	waitFor(t, "the sweeper to run", func() bool { return sweeperRunning(rv) })
	mustClose(t, s)
	waitFor(t, "the sweeper to end after Close", func() bool { return !sweeperRunning(rv) })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// sweeperRunning reports whether rv's sweeper goroutine is in the dump.
func sweeperRunning(rv *server.Server) bool {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	return strings.Contains(string(buf), fmt.Sprintf("rendezvous/server.(*Server).sweepLoop(%p", rv))
}

// TestCloseEndsStartGoroutines: a server started with a context that never
// ends (context.Background) and then closed leaves no goroutine of Start's
// behind, in particular none waiting for that context.
func TestCloseEndsStartGoroutines(t *testing.T) {
	before := startGoroutines()
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background(), "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	mustClose(t, s)
	for deadline := time.Now().Add(2 * time.Second); startGoroutines() > before; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines started by Start still run after Close, %d before Start", startGoroutines(), before)
		}
	}
}

// startGoroutines counts the goroutines that Server.Start started.
func startGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	return strings.Count(string(buf), "created by github.com/qrlogin/qrlogin/internal/devserver.(*Server).Start in goroutine")
}
