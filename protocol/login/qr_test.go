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

// TestStaleSwitchRequestIsDropped: a SwitchGeneration made while no QR
// code was showing (here, before Run) is not applied to a QR code shown
// later; one made while a QR code shows still switches.
func TestStaleSwitchRequestIsDropped(t *testing.T) {
	srv := devServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	qrs := make(chan login.QRReady, 4)
	flow := login.New(login.Config{Homeserver: srv.URL(), Poll: fast}, func(ev login.Event) {
		if e, ok := ev.(login.QRReady); ok {
			qrs <- e
		}
	})
	flow.SwitchGeneration()
	done := make(chan error, 1)
	go func() { _, err := flow.Run(ctx); done <- err }()
	defer func() { cancel(); <-done }()
	next := func() login.QRReady {
		t.Helper()
		select {
		case q := <-qrs:
			return q
		case err := <-done:
			t.Fatalf("Run ended: %v", err)
		case <-ctx.Done():
			t.Fatal("no QR code")
		}
		return login.QRReady{}
	}
	first := next()
	if first.Alternative == "" {
		t.Fatalf("first QR code %s offers no other generation", first.Protocol)
	}
	select {
	case q := <-qrs:
		t.Fatalf("a %s QR code replaced the first (%s) with nobody asking while it showed", q.Protocol, first.Protocol)
	case <-time.After(time.Second):
	}
	flow.SwitchGeneration()
	if second := next(); second.Protocol != first.Alternative {
		t.Fatalf("after switching: a %s QR code, want %s", second.Protocol, first.Alternative)
	}
}
