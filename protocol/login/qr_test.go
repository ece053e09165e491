package login_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/rendezvous/server"
)

// TestSessionsThatEndAtOnceStopTheQRLoop: a server whose MSC4388 sessions
// are gone as soon as they are created (every session GET answers 404)
// gets a few sessions, with pauses between them, and then the sign-in ends
// with ErrRendezvousBroken, instead of a loop that creates sessions as
// fast as the server answers.
func TestSessionsThatEndAtOnceStopTheQRLoop(t *testing.T) {
	rv := server.New(server.Config{DisableETag: true})
	t.Cleanup(rv.Close)
	var creates atomic.Int32
	sessionPrefix := string(rendezvous.PathUnstable) + "/"
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == string(rendezvous.PathUnstable):
			creates.Add(1)
		case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, sessionPrefix):
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"errcode":"M_NOT_FOUND","error":"no such session"}`)
			return
		}
		rv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var qrs atomic.Int32
	flow := login.New(login.Config{Homeserver: hs.URL, Poll: fast}, func(ev login.Event) {
		if _, ok := ev.(login.QRReady); ok {
			qrs.Add(1)
		}
	})
	start := time.Now()
	_, err := flow.Run(ctx)
	if !errors.Is(err, login.ErrRendezvousBroken) {
		t.Fatalf("Run: %v after %d sessions, want %v", err, creates.Load(), login.ErrRendezvousBroken)
	}
	if n := creates.Load(); n != 3 {
		t.Fatalf("%d sessions created, want 3", n)
	}
	if n := qrs.Load(); n != 3 {
		t.Fatalf("%d QR codes shown, want 3", n)
	}
	if el := time.Since(start); el < time.Second {
		t.Fatalf("three sessions in %v: no pause between them", el)
	}
}
