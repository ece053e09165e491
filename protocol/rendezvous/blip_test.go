package rendezvous_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/rendezvous/server"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// blipper fails every GET while on: by turns a dropped connection, a 502
// and a 429, the faults a flaky network or an overloaded proxy produce.
func blipper(t testing.TB, on *atomic.Bool, failed *atomic.Int32) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet || !on.Load() {
				next.ServeHTTP(w, r)
				return
			}
			switch failed.Add(1) % 3 {
			case 0:
				rendezvous.DropConnection(t, w)
			case 1:
				http.Error(w, "bad gateway", http.StatusBadGateway)
			default:
				w.Header().Set("Retry-After", "0")
				http.Error(w, `{"errcode":"M_LIMIT_EXCEEDED"}`, http.StatusTooManyRequests)
			}
		})
	}
}

// A few seconds of failed polls (far more than one request's retries) do
// not end a session that has not expired: Receive rides out the blip and
// returns the peer's message once the network is back. Only expiry, or a
// message that does not open, ends a channel.
func TestReceiveRidesOutANetworkBlip(t *testing.T) {
	for _, gen := range []vocab.Generation{vocab.MSC4388, vocab.MSC4108v2024} {
		t.Run(string(gen), func(t *testing.T) {
			var on atomic.Bool
			var failed atomic.Int32
			srv := startServer(t, server.Config{}, blipper(t, &on, &failed))
			c, e := newServerClients(t, srv.URL)
			ctx := rendezvous.TestCtx(t)
			var waiting, writing rendezvous.Session
			if gen == vocab.MSC4388 {
				g, err := c.Create(ctx)
				if err != nil {
					t.Fatal(err)
				}
				s, err := c.Join(ctx, srv.URL, g.ID())
				if err != nil {
					t.Fatal(err)
				}
				waiting, writing = g, s
			} else {
				g, err := e.Create(ctx)
				if err != nil {
					t.Fatal(err)
				}
				s, err := e.Join(ctx, g.URL())
				if err != nil {
					t.Fatal(err)
				}
				waiting, writing = g, s
			}
			on.Store(true)
			type got struct {
				msg string
				err error
			}
			done := make(chan got, 1)
			go func() {
				msg, err := waiting.Receive(ctx, vocab.PaceReply)
				done <- got{msg, err}
			}()
			// Long enough for many exhausted retry rounds (FastRetry gives
			// up on one request within milliseconds).
			deadline := time.Now().Add(5 * time.Second)
			for failed.Load() < 40 && time.Now().Before(deadline) {
				select {
				case r := <-done:
					t.Fatalf("Receive ended during the blip: %q, %v", r.msg, r.err)
				case <-time.After(20 * time.Millisecond):
				}
			}
			on.Store(false)
			sendCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if err := writing.Send(sendCtx, "after the blip"); err != nil {
				t.Fatalf("Send: %v", err)
			}
			select {
			case r := <-done:
				if r.err != nil || r.msg != "after the blip" {
					t.Fatalf("Receive = %q, %v; want the message sent after the blip", r.msg, r.err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Receive did not return after the blip")
			}
		})
	}
}
