package oauth_test

// Integration tests against the development homeserver that imitates
// Synapse + MAS (internal/devserver).

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/internal/devserver/devservertest"
	"github.com/qrlogin/qrlogin/protocol/oauth"
)

// testClock is shared by the dev server (expiry) and the poller (waits).
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func start(t *testing.T, clk *testClock) (*devserver.Server, *oauth.Client) {
	t.Helper()
	srv := devservertest.Start(t, devserver.Config{Now: clk.Now})
	ctx := context.Background()
	meta, err := oauth.Discover(ctx, nil, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	id, err := oauth.Register(ctx, nil, meta)
	if err != nil {
		t.Fatal(err)
	}
	return srv, &oauth.Client{Metadata: meta, ClientID: id}
}

func TestDevServerDeniedAndExpired(t *testing.T) {
	for _, tc := range []struct {
		name string
		act  func(srv *devserver.Server, clk *testClock, userCode string) error
		want error
	}{
		{"denied", func(srv *devserver.Server, _ *testClock, code string) error { return srv.Deny(code) }, oauth.ErrAccessDenied},
		// The server's clock passes the code's lifetime while ours does not:
		// MAS's 403 expired_token decides.
		{"expired", func(_ *devserver.Server, clk *testClock, _ string) error {
			clk.advance(devserver.DefaultDeviceCodeLifetime)
			return nil
		}, oauth.ErrAuthorizationExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &testClock{now: time.Now()}
			srv, c := start(t, clk)
			for _, unstable := range []bool{false, true} {
				scopes, _ := oauth.Scopes(oauth.NewDeviceID(), unstable)
				da, err := c.StartDeviceAuthorization(context.Background(), scopes)
				if err != nil {
					t.Fatal(err)
				}
				if da.Interval != devserver.DefaultPollInterval || da.ExpiresIn != devserver.DefaultDeviceCodeLifetime {
					t.Fatalf("%v", da)
				}
				sleeps := 0
				ourClock := time.Now()
				p := &oauth.Poller{Client: c, Now: func() time.Time { return ourClock }, Sleep: func(ctx context.Context, d time.Duration) error {
					sleeps++
					if sleeps == 2 {
						return tc.act(srv, clk, da.UserCode)
					}
					return nil
				}}
				da.Expiry = time.Time{}
				if _, err := p.Poll(context.Background(), da); !errors.Is(err, tc.want) {
					t.Fatalf("unstable=%v: got %v, want %v", unstable, err, tc.want)
				}
			}
		})
	}
}

func TestDevServerRejectsMixedScopes(t *testing.T) {
	_, c := start(t, &testClock{now: time.Now()})
	stable, _ := oauth.Scopes("ABCDEFGHJKLM", false)
	unstable, _ := oauth.Scopes("ABCDEFGHJKLM", true)
	_, err := c.StartDeviceAuthorization(context.Background(), []string{stable[0], unstable[1]})
	var oe *oauth.Error
	if !errors.As(err, &oe) || oe.Code != "invalid_scope" {
		t.Fatalf("got %v, want invalid_scope", err)
	}
}

func TestDevServerReusedCodeAndUnknownClient(t *testing.T) {
	clk := &testClock{now: time.Now()}
	srv, c := start(t, clk)
	scopes, _ := oauth.Scopes(oauth.NewDeviceID(), false)
	da, err := c.StartDeviceAuthorization(context.Background(), scopes)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Approve(da.UserCode); err != nil {
		t.Fatal(err)
	}
	noWait := func(context.Context, time.Duration) error { return nil }
	if _, err := (&oauth.Poller{Client: c, Sleep: noWait}).Poll(context.Background(), da); err != nil {
		t.Fatal(err)
	}
	_, err = (&oauth.Poller{Client: c, Sleep: noWait}).Poll(context.Background(), da)
	var oe *oauth.Error
	if !errors.As(err, &oe) || oe.Status != 400 || oe.Code != "invalid_grant" {
		t.Fatalf("re-used code: %v", err)
	}
	stranger := &oauth.Client{Metadata: c.Metadata, ClientID: "01JUNKNOWN"}
	if _, err := stranger.StartDeviceAuthorization(context.Background(), scopes); !errors.As(err, &oe) || oe.Status != 401 {
		t.Fatalf("unknown client: %v", err)
	}
}
