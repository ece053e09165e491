package login_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/rendezvous/server"
)

// countingServer is the project's rendezvous server on 127.0.0.1 that
// counts the requests it serves by "METHOD path".
type countingServer struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func newCountingServer(t *testing.T, cfg server.Config) *countingServer {
	t.Helper()
	rv := server.New(cfg)
	t.Cleanup(rv.Close)
	c := &countingServer{hits: map[string]int{}}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.hits[r.Method+" "+r.URL.Path]++
		c.mu.Unlock()
		rv.ServeHTTP(w, r)
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *countingServer) requests(methodPath string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits[methodPath]
}

// firstQR runs a sign-in until its first QR code is showing, then cancels it.
func firstQR(t *testing.T, cfg login.Config) login.QRReady {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	qrs := make(chan login.QRReady, 1)
	flow := login.New(cfg, func(ev login.Event) {
		if e, ok := ev.(login.QRReady); ok {
			select {
			case qrs <- e:
			default:
			}
		}
	})
	done := make(chan error, 1)
	go func() { _, err := flow.Run(ctx); done <- err }()
	select {
	case qr := <-qrs:
		cancel()
		<-done
		return qr
	case err := <-done:
		t.Fatalf("the flow ended before showing a QR code: %v", err)
	}
	return login.QRReady{}
}

// A sign-in asks the server about each generation once. When the 2024
// stack is missing and MSC4388 is chosen, the 2024 probe must not run a
// second time to find the "other" generation: with an explicit rendezvous
// server each 2024 probe is a create.
func TestSignInProbesEachGenerationOnce(t *testing.T) {
	t.Run("homeserver", func(t *testing.T) {
		hs := newCountingServer(t, server.Config{DisableETag: true}) // no /versions flag
		qr := firstQR(t, login.Config{Homeserver: hs.URL, Poll: fast})
		if qr.Protocol != "msc4388" || qr.Alternative != "" {
			t.Fatalf("QR: protocol %q alternative %q", qr.Protocol, qr.Alternative)
		}
		if n := hs.requests("GET /_matrix/client/versions"); n != 1 {
			t.Fatalf("/versions asked %d times, want once", n)
		}
		if n := hs.requests("GET " + string(rendezvous.PathUnstable)); n != 1 {
			t.Fatalf("MSC4388 discovery asked %d times, want once", n)
		}
	})
	t.Run("explicit rendezvous server", func(t *testing.T) {
		hs := newCountingServer(t, server.Config{})
		rv := newCountingServer(t, server.Config{DisableETag: true})
		qr := firstQR(t, login.Config{Homeserver: hs.URL, RendezvousServer: rv.URL, Poll: fast})
		if qr.Protocol != "msc4388" || qr.Alternative != "" {
			t.Fatalf("QR: protocol %q alternative %q", qr.Protocol, qr.Alternative)
		}
		if n := rv.requests("POST " + rendezvous.Path2024); n != 1 {
			t.Fatalf("2024 create tried %d times, want once", n)
		}
	})
}

// A grant with a separate rendezvous server can use only the 2024 QR code
// (an MSC4388 code names one server), so it asks that server nothing about
// MSC4388 and offers no other generation.
func TestGrantWithARendezvousServerAsksOnlyAbout2024(t *testing.T) {
	srv := devServerWith(t, devserver.Config{})
	rv := newCountingServer(t, server.Config{}) // offers both generations
	ctx := testCtx(t)
	r := startGrant(ctx, t, srv, "auto", func(c *login.GrantConfig) { c.RendezvousServer = rv.URL })
	defer r.cancel()
	qr := r.nextQR()
	if qr.Protocol != "msc4108-2024" || qr.Alternative != "" {
		t.Fatalf("QR: protocol %q alternative %q", qr.Protocol, qr.Alternative)
	}
	for _, path := range []rendezvous.APIPath{rendezvous.PathUnstable, rendezvous.PathStable} {
		if n := rv.requests("GET " + string(path)); n != 0 {
			t.Errorf("MSC4388 discovery %s asked %d times, want never", path, n)
		}
	}
}
