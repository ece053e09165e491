package devserver

import (
	"net/http"
	"strings"
	"testing"
)

// expectSynapseCORS checks the four headers Synapse's set_cors_headers sends.
func expectSynapseCORS(t *testing.T, what string, h http.Header) {
	t.Helper()
	for _, c := range synapseCORSHeaders {
		if got := h.Get(c.name); got != c.value {
			t.Errorf("%s: %s = %q, want %q", what, c.name, got, c.value)
		}
	}
	if h.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("%s: a web client could not send its access token: %v", what, h)
	}
}

// TestCORSOnMatrixEndpoints: the Matrix paths answer with Synapse's CORS
// headers, errors included, and OPTIONS preflights get 204 with no body
// whatever the path (docs/protocol-divergences.md "CORS").
func TestCORSOnMatrixEndpoints(t *testing.T) {
	s := startServer(t, Config{})
	_, tok := login(t, s, testDeviceID)
	for _, c := range []struct {
		method, path, token string
		status              int
	}{
		{"GET", "/_matrix/client/versions", "", http.StatusOK},
		{"GET", "/.well-known/matrix/client", "", http.StatusOK},
		{"GET", "/_matrix/client/v1/auth_metadata", "", http.StatusOK},
		{"GET", "/_matrix/client/v3/account/whoami", tok.AccessToken, http.StatusOK},
		{"GET", "/_matrix/client/v3/account/whoami", "", http.StatusUnauthorized},
		{"GET", "/_matrix/client/v3/no_such_endpoint", "", http.StatusNotFound},
		{"POST", "/_matrix/client/v3/keys/query", "", http.StatusUnauthorized},
	} {
		r := do(t, c.method, s.URL()+c.path, c.token, nil)
		if r.status != c.status {
			t.Fatalf("%s %s: status %d, want %d", c.method, c.path, r.status, c.status)
		}
		expectSynapseCORS(t, c.method+" "+c.path, r.header)
	}
	// Preflights: a POST-only route, an unknown path, the well-known.
	for _, path := range []string{
		"/_matrix/client/v3/keys/upload",
		"/_matrix/client/v3/sync",
		"/.well-known/matrix/client",
	} {
		r := do(t, http.MethodOptions, s.URL()+path, "", nil)
		if r.status != http.StatusNoContent || len(r.body) != 0 {
			t.Fatalf("OPTIONS %s: %d %q, want 204 with no body", path, r.status, r.body)
		}
		expectSynapseCORS(t, "OPTIONS "+path, r.header)
	}
}

// TestCORSScope: the OAuth paths are MAS's and get no Synapse CORS; the
// rendezvous paths keep the rendezvous handler's own headers (which let a
// browser send If-Match), not the narrower Synapse JSON set.
func TestCORSScope(t *testing.T) {
	s := startServer(t, Config{})
	for _, path := range []string{"/.well-known/openid-configuration", pathJWKS} {
		if r := do(t, "GET", s.URL()+path, "", nil); r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("GET %s: Synapse CORS on an OAuth path: %v", path, r.header)
		}
	}
	r := do(t, http.MethodOptions, s.URL()+pathRendezvousMSC4388, "", nil)
	if got := r.header.Get("Access-Control-Allow-Headers"); !strings.Contains(got, "If-Match") {
		t.Errorf("OPTIONS rendezvous: Allow-Headers %q, want the rendezvous handler's (with If-Match)", got)
	}
}

// TestPreflightLeavesFaults: a browser's preflight must not use up a fault
// injected for the request that follows it.
func TestPreflightLeavesFaults(t *testing.T) {
	s := startServer(t, Config{})
	if err := s.InjectFault(Fault{PathPrefix: "/_matrix/client/versions", Count: 1, Status: http.StatusBadGateway}); err != nil {
		t.Fatal(err)
	}
	expect(t, do(t, http.MethodOptions, s.URL()+"/_matrix/client/versions", "", nil), http.StatusNoContent, "")
	r := do(t, "GET", s.URL()+"/_matrix/client/versions", "", nil)
	expect(t, r, http.StatusBadGateway, "M_UNKNOWN")
	expectSynapseCORS(t, "injected fault", r.header)
	expect(t, do(t, "GET", s.URL()+"/_matrix/client/versions", "", nil), http.StatusOK, "")
}
