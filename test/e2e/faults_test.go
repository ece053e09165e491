package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/devserver"
)

// rendezvousSessionPrefix is where each generation's session requests go
// on the dev server (create, poll, write, delete).
var rendezvousSessionPrefix = map[string]string{
	gen4388: "/_matrix/client/unstable/io.element.msc4388/rendezvous/",
	gen2024: "/_synapse/client/rendezvous/",
}

// TestServerErrorsAreRetried: a few 500s and 429s (with Retry-After) on the
// way do not end the sign-in.
func TestServerErrorsAreRetried(t *testing.T) {
	requireSession(t)
	t.Parallel()
	cases := []struct {
		name   string
		gen    string
		prefix string // "" = the generation's rendezvous session prefix
		fault  devserver.Fault
	}{
		{"rendezvous-500/" + gen4388, gen4388, "", devserver.Fault{Count: 2, Status: http.StatusInternalServerError}},
		{"rendezvous-500/" + gen2024, gen2024, "", devserver.Fault{Count: 2, Status: http.StatusInternalServerError}},
		{"rendezvous-429/" + gen4388, gen4388, "", devserver.Fault{Count: 2, Status: http.StatusTooManyRequests, RetryAfter: time.Second}},
		{"rendezvous-429/" + gen2024, gen2024, "", devserver.Fault{Count: 2, Status: http.StatusTooManyRequests, RetryAfter: time.Second}},
		{"token-500", gen4388, "/oauth2/token", devserver.Fault{Count: 1, Status: http.StatusInternalServerError}},
		{"token-429", gen2024, "/oauth2/token", devserver.Fault{Count: 1, Status: http.StatusTooManyRequests, RetryAfter: time.Second}},
		{"keys-query-429", gen4388, "/_matrix/client/v3/keys/query", devserver.Fault{Count: 1, Status: http.StatusTooManyRequests, RetryAfter: time.Second}},
		{"keys-query-500", gen2024, "/_matrix/client/v3/keys/query", devserver.Fault{Count: 1, Status: http.StatusInternalServerError}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, devserver.Config{})
			f := c.fault
			f.PathPrefix = c.prefix
			if f.PathPrefix == "" {
				f.PathPrefix = rendezvousSessionPrefix[c.gen]
			}
			// Inject once the QR code is up, so the faults hit the session
			// itself (polls, writes) rather than discovery.
			o := login(t, srv, scenario{gen: c.gen, afterFirst: func() {
				if err := srv.InjectFault(f); err != nil {
					t.Error(err)
				}
			}})
			if o.exit != 0 {
				t.Fatalf("login failed: %s", o)
			}
			if done := o.last(); done.name() != "done" || done["verified"] != true {
				t.Fatalf("last event %v, want done verified", done)
			}
			logout(t, srv)
		})
	}
}

// TestServerKeepsFailing: a server that only answers 500 (or 429) ends the
// sign-in with a clear code, before any QR code is shown.
func TestServerKeepsFailing(t *testing.T) {
	requireSession(t)
	t.Parallel()
	for _, c := range []struct {
		status int
		codes  []string
	}{
		{http.StatusInternalServerError, []string{"server_error"}},
		{http.StatusTooManyRequests, []string{"server_error"}},
		{http.StatusBadGateway, []string{"server_error"}},
	} {
		t.Run(http.StatusText(c.status), func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, devserver.Config{})
			if err := srv.InjectFault(devserver.Fault{PathPrefix: "/", Count: 1000, Status: c.status, RetryAfter: time.Second}); err != nil {
				t.Fatal(err)
			}
			o := login(t, srv, scenario{gen: gen4388, noPhone: true})
			last := o.last()
			if o.exit != 1 || last.name() != "error" || !contains(c.codes, last.str("code")) {
				t.Fatalf("want error %v; got %s", c.codes, o)
			}
			expectNotStored(t, srv, o)
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestServerUnreachable: nothing listens at the homeserver's address.
func TestServerUnreachable(t *testing.T) {
	requireSession(t)
	t.Parallel()
	srv := startServer(t, devserver.Config{})
	// A port that was just free: the dev server's own, once it is closed.
	_ = srv.Close()
	o := login(t, srv, scenario{gen: gen2024, noPhone: true})
	expectError(t, o, "network")
}
