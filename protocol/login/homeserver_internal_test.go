package login

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/protocol/msc4108"
)

// noRequests fails any request: comparing equal base URLs needs none.
type noRequests struct{ n int }

func (r *noRequests) RoundTrip(*http.Request) (*http.Response, error) {
	r.n++
	return nil, errors.New("noRequests: unexpected request")
}

// The same base URL written differently (a trailing slash, the host's
// case, the default port) is the same homeserver: no mismatch, and no
// request is needed to see it.
func TestPhoneHomeserverSameAfterNormalising(t *testing.T) {
	rt := &noRequests{}
	f := New(Config{HTTP: &http.Client{Transport: rt}}, nil)
	tg := &target{baseURL: "https://matrix.example.org"}
	for _, m := range []msc4108.Protocols{
		{BaseURL: "https://matrix.example.org"},
		{BaseURL: "https://matrix.example.org/"},
		{Homeserver: "https://Matrix.Example.ORG/"},
		{Homeserver: "HTTPS://matrix.example.org:443"},
		{}, // nothing named: the chosen server
	} {
		got, err := f.homeserverFromPhone(context.Background(), tg, m)
		if err != nil || got != tg.baseURL {
			t.Errorf("%+v: %q, %v; want %q", m, got, err, tg.baseURL)
		}
	}
	if rt.n != 0 {
		t.Errorf("%d requests to compare equal base URLs", rt.n)
	}
	sub := &target{baseURL: "https://example.org/matrix"}
	if got, err := f.homeserverFromPhone(context.Background(), sub, msc4108.Protocols{BaseURL: "https://EXAMPLE.org/matrix/"}); err != nil || got != sub.baseURL {
		t.Errorf("base URL with a path: %q, %v", got, err)
	}
}

// A bare server name from the phone (Element Web sends one in the 2024
// generation, docs/protocol-divergences.md "base_url vs homeserver") is
// resolved through its /.well-known/matrix/client before comparing: the
// name of the chosen server is no mismatch, the name of another one is.
func TestPhoneServerNameResolvedBeforeComparing(t *testing.T) {
	var wellKnownBase string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/matrix/client" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"m.homeserver":{"base_url":"` + wellKnownBase + `"}}`))
	}))
	defer srv.Close()
	name := strings.TrimPrefix(srv.URL, "https://") // 127.0.0.1:port
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f := New(Config{HTTP: srv.Client()}, nil)
	tg := &target{baseURL: "https://matrix.example.org"}

	wellKnownBase = "https://matrix.example.org/"
	if got, err := f.homeserverFromPhone(ctx, tg, msc4108.Protocols{Homeserver: name}); err != nil || got != tg.baseURL {
		t.Errorf("server name whose well-known names the chosen server: %q, %v", got, err)
	}

	wellKnownBase = "https://matrix.other.example"
	_, err := f.homeserverFromPhone(ctx, tg, msc4108.Protocols{Homeserver: name})
	var mismatch *HomeserverMismatchError
	if !errors.As(err, &mismatch) || mismatch.Chosen != tg.baseURL || mismatch.Phone != "https://matrix.other.example" {
		t.Fatalf("server name of another server: %v, want a mismatch naming both", err)
	}
	if !strings.Contains(err.Error(), "https://matrix.other.example") || !strings.Contains(err.Error(), "https://matrix.example.org") {
		t.Errorf("error %q does not name both servers", err)
	}
	var sf *sendFailure
	if errors.As(err, &sf) {
		t.Errorf("homeserverFromPhone decides the reason itself: %v", err)
	}
}
