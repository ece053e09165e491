package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// whoamiStub is a tiny homeserver: "good" is a valid token, "boom" makes
// it fail, anything else is unknown.
type whoamiStub struct {
	calls atomic.Int32
	http  *httptest.Server
}

func newWhoamiStub(t *testing.T) *whoamiStub {
	h := &whoamiStub{}
	h.http = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/_matrix/client/v3/account/whoami" || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		h.calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		switch r.Header.Get("Authorization") {
		case "Bearer good":
			_, _ = w.Write([]byte(`{"user_id":"@alice:example.org","device_id":"ABC"}`))
		case "Bearer boom":
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"errcode":"M_UNKNOWN"}`))
		default:
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"errcode":"M_UNKNOWN_TOKEN","error":"Unknown token"}`))
		}
	}))
	t.Cleanup(h.http.Close)
	return h
}

func newAuthEnv(t *testing.T, cfg Config) (*testEnv, *whoamiStub) {
	hs := newWhoamiStub(t)
	cfg.Mode = ModeAuthenticated
	cfg.Homeserver = hs.http.URL + "/"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return newTestEnv(t, cfg), hs
}

// TestAuthenticatedDiscoveryAndCreate: discovery and creation need a
// token the homeserver accepts (Synapse: 401 without one).
func TestAuthenticatedDiscoveryAndCreate(t *testing.T) {
	env, _ := newAuthEnv(t, Config{})
	for _, prefix := range msc4388Prefixes {
		env.do(http.MethodGet, prefix.path, "").expectError(t, http.StatusUnauthorized, "M_MISSING_TOKEN")
		env.do(http.MethodGet, prefix.path, "", "Authorization", "Bearer nope").expectError(t, http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
		ok := env.do(http.MethodGet, prefix.path, "", "Authorization", "Bearer good")
		ok.expectStatus(t, http.StatusOK)
		if ok.json(t)["create_available"] != true {
			t.Fatalf("discovery = %s", ok.body)
		}

		env.do(http.MethodPost, prefix.path, `{"data":"x"}`).expectError(t, http.StatusUnauthorized, "M_MISSING_TOKEN")
		env.do(http.MethodPost, prefix.path, `{"data":"x"}`, "Authorization", "Bearer nope").expectError(t, http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
		env.do(http.MethodPost, prefix.path, `{"data":"x"}`, "Authorization", "Basic Z29vZA==").expectError(t, http.StatusUnauthorized, "M_MISSING_TOKEN")
		created := env.do(http.MethodPost, prefix.path, `{"data":"x"}`, "Authorization", "bearer good")
		created.expectStatus(t, http.StatusOK)
		env.do(http.MethodPost, prefix.path+"?access_token=good", `{"data":"x"}`).expectStatus(t, http.StatusOK)

		// Using a session needs no token (MSC4388: "Requires authentication: No").
		id, token := created.str(t, "id"), created.str(t, "sequence_token")
		env.do(http.MethodGet, prefix.path+"/"+id, "").expectStatus(t, http.StatusOK)
		env.put4388(prefix.path, id, token, "y").expectStatus(t, http.StatusOK)
		env.do(http.MethodDelete, prefix.path+"/"+id, "").expectStatus(t, http.StatusOK)
	}
	// The 2024 API stays open, as in Synapse.
	env.createETag("open")
}

// TestAuthenticatedDiscoveryMSCText: the MSC text's reading answers
// unauthenticated discovery with create_available false.
func TestAuthenticatedDiscoveryMSCText(t *testing.T) {
	env, _ := newAuthEnv(t, Config{Discovery: DiscoveryCreateUnavailable})
	resp := env.do(http.MethodGet, pathMSC4388Stable, "")
	resp.expectStatus(t, http.StatusOK)
	if resp.json(t)["create_available"] != false {
		t.Fatalf("discovery without token = %s", resp.body)
	}
	env.do(http.MethodGet, pathMSC4388Stable, "", "Authorization", "Bearer nope").expectError(t, http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
	if env.do(http.MethodGet, pathMSC4388Stable, "", "Authorization", "Bearer good").json(t)["create_available"] != true {
		t.Fatal("discovery with a good token is not true")
	}
	// Creation still needs the token.
	env.do(http.MethodPost, pathMSC4388Stable, `{"data":"x"}`).expectError(t, http.StatusUnauthorized, "M_MISSING_TOKEN")
}

// TestAuthenticatedCache: positive answers are cached for
// TokenCacheTTL; negative ones are not.
func TestAuthenticatedCache(t *testing.T) {
	env, hs := newAuthEnv(t, Config{TokenCacheTTL: 30 * time.Second})
	for range 3 {
		env.do(http.MethodPost, pathMSC4388Unstable, `{"data":"x"}`, "Authorization", "Bearer good").expectStatus(t, http.StatusOK)
	}
	if n := hs.calls.Load(); n != 1 {
		t.Fatalf("whoami called %d times for one token, want 1 (cached)", n)
	}
	env.clock.Advance(30 * time.Second)
	env.do(http.MethodGet, pathMSC4388Unstable, "", "Authorization", "Bearer good").expectStatus(t, http.StatusOK)
	if n := hs.calls.Load(); n != 2 {
		t.Fatalf("whoami called %d times after the cache expired, want 2", n)
	}
	for range 2 {
		env.do(http.MethodGet, pathMSC4388Unstable, "", "Authorization", "Bearer nope").expectStatus(t, http.StatusUnauthorized)
	}
	if n := hs.calls.Load(); n != 4 {
		t.Fatalf("whoami called %d times, want 4 (negative answers not cached)", n)
	}
	env.server.sweep()
	env.clock.Advance(30 * time.Second)
	env.server.sweep()
	if n := len(env.server.verifier.valid); n != 0 {
		t.Fatalf("%d cached tokens after expiry and sweep", n)
	}
}

// TestAuthenticatedHomeserverFailure: a homeserver error is a 502,
// not a 401 (the token may be fine), and never a 500.
func TestAuthenticatedHomeserverFailure(t *testing.T) {
	env, _ := newAuthEnv(t, Config{})
	env.do(http.MethodPost, pathMSC4388Unstable, `{"data":"x"}`, "Authorization", "Bearer boom").expectError(t, http.StatusBadGateway, "M_UNKNOWN")
	// A token that cannot travel in a header is simply unknown.
	env.do(http.MethodPost, pathMSC4388Unstable+"?access_token=a%0Ab", `{"data":"x"}`).expectError(t, http.StatusUnauthorized, "M_UNKNOWN_TOKEN")

	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	unreachable := newTestEnv(t, Config{Mode: ModeAuthenticated, Homeserver: down.URL})
	unreachable.do(http.MethodGet, pathMSC4388Unstable, "", "Authorization", "Bearer good").expectError(t, http.StatusBadGateway, "M_UNKNOWN")
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{DefaultConfig(), ""},
		{Config{Mode: ModeAuthenticated}, "homeserver"},
		{Config{Mode: ModeAuthenticated, Homeserver: "matrix.org"}, "http"},
		{Config{PublicURL: "ftp://x"}, "public URL"},
		{Config{Mode: Mode(9)}, "unknown mode"},
	} {
		err := tc.cfg.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Validate(%+v) = %v, want mention of %q", tc.cfg, err, tc.want)
		}
	}
}

func TestParseMode(t *testing.T) {
	for _, m := range []Mode{ModeOpen, ModeAuthenticated, ModeOff} {
		if back, err := ParseMode(m.String()); err != nil || back != m {
			t.Errorf("ParseMode(%q) = %v, %v", m.String(), back, err)
		}
	}
	if _, err := ParseMode("closed"); err == nil {
		t.Error("ParseMode accepted an unknown mode")
	}
}

// TestSecFetch applies Synapse's four unsafe-content rules to the
// GETs of both generations (MSC4388 "Receive a payload").
func TestSecFetch(t *testing.T) {
	env := newTestEnv(t, Config{})
	id, _ := env.create4388(pathMSC4388Unstable, "payload")
	etagURL, _ := env.createETag("payload")
	targets := []string{pathMSC4388Unstable + "/" + id, pathMSC4388Stable + "/" + id, etagURL}
	for _, tc := range []struct {
		name    string
		headers []string
		status  int
	}{
		{"native client", nil, 200},
		{"script fetch", []string{"Sec-Fetch-Dest", "empty", "Sec-Fetch-Mode", "cors", "Sec-Fetch-Site", "cross-site"}, 200},
		{"same-origin fetch", []string{"Sec-Fetch-Dest", "empty", "Sec-Fetch-Mode", "same-origin", "Sec-Fetch-Site", "same-origin"}, 200},
		{"typed URL", []string{"Sec-Fetch-Dest", "document", "Sec-Fetch-Mode", "navigate", "Sec-Fetch-Site", "none", "Sec-Fetch-User", "?1"}, 403},
		{"image", []string{"Sec-Fetch-Dest", "image"}, 403},
		{"iframe", []string{"Sec-Fetch-Dest", "iframe"}, 403},
		{"empty dest value", []string{"Sec-Fetch-Dest", ""}, 403},
		{"navigate only", []string{"Sec-Fetch-Mode", "navigate"}, 403},
		{"user activation only", []string{"Sec-Fetch-User", "?1"}, 403},
		{"site none only", []string{"Sec-Fetch-Site", "none"}, 403},
	} {
		for _, target := range targets {
			resp := env.do(http.MethodGet, target, "", tc.headers...)
			if resp.status != tc.status {
				t.Errorf("%s on %s: status %d, want %d", tc.name, target, resp.status, tc.status)
			}
			if tc.status == 403 {
				resp.expectError(t, http.StatusForbidden, "M_FORBIDDEN")
				if strings.Contains(string(resp.body), "payload") {
					t.Errorf("%s: the refusal leaks the payload", tc.name)
				}
			}
		}
	}
}

// TestCORS: preflights on every path answer with the CORS headers,
// which cover Authorization and the 2024 conditional headers; ordinary
// answers, errors included, carry them too.
func TestCORS(t *testing.T) {
	env := newTestEnv(t, Config{ServeVersions: true})
	check := func(what string, h http.Header) {
		t.Helper()
		if h.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: Allow-Origin %q", what, h.Get("Access-Control-Allow-Origin"))
		}
		for _, want := range []string{"Authorization", "Content-Type", "If-Match", "If-None-Match", "X-Requested-With"} {
			if !strings.Contains(h.Get("Access-Control-Allow-Headers"), want) {
				t.Errorf("%s: Allow-Headers %q lacks %s", what, h.Get("Access-Control-Allow-Headers"), want)
			}
		}
		for _, want := range []string{"GET", "POST", "PUT", "DELETE", "OPTIONS"} {
			if !strings.Contains(h.Get("Access-Control-Allow-Methods"), want) {
				t.Errorf("%s: Allow-Methods %q lacks %s", what, h.Get("Access-Control-Allow-Methods"), want)
			}
		}
		if !strings.Contains(h.Get("Access-Control-Expose-Headers"), "ETag") {
			t.Errorf("%s: Expose-Headers %q lacks ETag", what, h.Get("Access-Control-Expose-Headers"))
		}
	}
	for _, path := range []string{pathMSC4388Unstable, pathMSC4388Stable + "/ANY", pathETagCreate, pathETagSession + "ANY", pathVersions} {
		resp := env.do(http.MethodOptions, path, "",
			"Origin", "https://app.example.org",
			"Access-Control-Request-Method", "PUT",
			"Access-Control-Request-Headers", "authorization, content-type, if-match")
		resp.expectStatus(t, http.StatusNoContent)
		check("OPTIONS "+path, resp.header)
	}
	check("404", env.do(http.MethodGet, pathMSC4388Unstable+"/missing", "").header)
	check("POST", env.do(http.MethodPost, pathMSC4388Unstable, `{"data":""}`).header)
}
