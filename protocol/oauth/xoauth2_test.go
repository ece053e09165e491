package oauth

// These tests record why golang.org/x/oauth2 v0.38.0 is not used for the
// device flow at run time (see doc.go). They fail if a future version fixes
// the behaviour, which is the cue to reconsider.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// x/oauth2 parses MAS's 403 error bodies correctly (so the 403 alone would
// not rule it out)...
func TestXOAuth2Parses403ErrorBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(403)
		fmt.Fprint(w, `{"error":"access_denied"}`)
	}))
	defer srv.Close()
	cfg := oauth2.Config{ClientID: "c", Endpoint: oauth2.Endpoint{TokenURL: srv.URL, DeviceAuthURL: srv.URL, AuthStyle: oauth2.AuthStyleInParams}}
	start := time.Now()
	_, err := cfg.DeviceAccessToken(context.Background(), &oauth2.DeviceAuthResponse{DeviceCode: "d", Interval: 1})
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "access_denied" {
		t.Fatalf("got %v", err)
	}
	// ...but it waits a whole wall-clock interval before the first poll, with
	// no way to inject a clock.
	if time.Since(start) < time.Second {
		t.Fatal("x/oauth2 no longer waits before the first poll")
	}
}

// x/oauth2's DeviceAuth builds its request without the caller's context, so
// cancelling ctx does not abort a hung device authorization request.
func TestXOAuth2DeviceAuthIgnoresContext(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-time.After(5 * time.Second):
		}
		fmt.Fprint(w, `{"device_code":"d","user_code":"u","verification_uri":"https://x/","expires_in":5}`)
	}))
	defer srv.Close()
	cfg := oauth2.Config{ClientID: "c", Endpoint: oauth2.Endpoint{DeviceAuthURL: srv.URL}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := cfg.DeviceAuth(ctx, oauth2.SetAuthURLParam("x", "y")); done <- err }()
	cancel()
	select {
	case err := <-done:
		close(release)
		t.Fatalf("DeviceAuth honoured the cancelled context (%v): x/oauth2 fixed it", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	<-done

	// Ours returns promptly.
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	c := &Client{HTTP: srv.Client(), Metadata: &Metadata{DeviceAuthorizationEndpoint: srv.URL}, ClientID: "c"}
	if _, err := c.StartDeviceAuthorization(ctx2, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}
