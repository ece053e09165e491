package rendezvous

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCheckURL(t *testing.T) {
	ok := []string{
		"https://matrix.example.org", "https://matrix.example.org:8448/", "http://127.0.0.1:8008",
		"http://127.1.2.3", "http://[::1]:8008/", "http://localhost:8008", "http://LOCALHOST",
	}
	bad := []string{
		"http://matrix.example.org", "http://10.0.0.1", "http://[::2]/", "ftp://127.0.0.1", "https://",
		"matrix.example.org", "", "http://localhost.evil.example", "http://127.0.0.1.evil.example",
		"https://user:pw@example.org", "javascript:alert(1)",
	}
	for _, u := range ok {
		if _, err := CheckURL(u); err != nil {
			t.Errorf("CheckURL(%q) = %v, want ok", u, err)
		}
	}
	for _, u := range bad {
		_, err := CheckURL(u)
		if !errors.Is(err, ErrInsecureURL) {
			t.Errorf("CheckURL(%q) = %v, want ErrInsecureURL", u, err)
		}
		// One rule, one sentence (not the rule's error joined to another).
		if err != nil && strings.Count(err.Error(), "allowed only for loopback") != 1 {
			t.Errorf("CheckURL(%q): %q says the rule more than once", u, err)
		}
	}
}

func versionsServer(t *testing.T, body string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/_matrix/client/versions" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDiscover2024(t *testing.T) {
	cases := map[string]struct {
		body string
		want bool
		err  error
	}{
		"advertised":  {`{"versions":["v1.11"],"unstable_features":{"org.matrix.msc4108":true}}`, true, nil},
		"false":       {`{"versions":["v1.11"],"unstable_features":{"org.matrix.msc4108":false}}`, false, nil},
		"absent":      {`{"versions":["v1.11"],"unstable_features":{"org.matrix.msc3861":true}}`, false, nil},
		"no features": {`{"versions":["v1.11"]}`, false, nil},
		"garbage":     {`<html>`, false, ErrMalformedResponse},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := versionsServer(t, tc.body)
			got, err := Discover2024(testCtx(t), nil, srv.URL+"/")
			if got != tc.want || !errors.Is(err, tc.err) {
				t.Fatalf("Discover2024 = %v, %v; want %v, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

func wellKnownServer(t *testing.T, tls bool, status int, body string) *httptest.Server {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/matrix/client" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return srv
}

func TestResolveHomeserverByName(t *testing.T) {
	srv := wellKnownServer(t, true, 200, `{"m.homeserver":{"base_url":"https://matrix-client.example.org/"}}`)
	name := strings.TrimPrefix(srv.URL, "https://")
	got, err := ResolveHomeserver(testCtx(t), srv.Client(), name)
	if err != nil || got != "https://matrix-client.example.org" {
		t.Fatalf("ResolveHomeserver(%q) = %q, %v", name, got, err)
	}
}

func TestResolveHomeserverFallbacks(t *testing.T) {
	for name, tc := range map[string]struct {
		status int
		body   string
	}{
		"404":           {404, `{"errcode":"M_NOT_FOUND"}`},
		"html":          {200, `<html>hello</html>`},
		"no homeserver": {200, `{"m.identity_server":{"base_url":"https://id.example"}}`},
	} {
		t.Run(name, func(t *testing.T) {
			srv := wellKnownServer(t, true, tc.status, tc.body)
			name := strings.TrimPrefix(srv.URL, "https://")
			got, err := ResolveHomeserver(testCtx(t), srv.Client(), name)
			if err != nil || got != srv.URL {
				t.Fatalf("ResolveHomeserver = %q, %v; want %q", got, err, srv.URL)
			}
		})
	}
}

func TestResolveHomeserverURLInput(t *testing.T) {
	// A loopback http URL: well-known is asked over http there.
	srv := wellKnownServer(t, false, 200, `{"m.homeserver":{"base_url":"`+"http://127.0.0.1:1"+`"}}`)
	got, err := ResolveHomeserver(testCtx(t), nil, srv.URL+"/")
	if err != nil || got != "http://127.0.0.1:1" {
		t.Fatalf("ResolveHomeserver(url) = %q, %v", got, err)
	}
	// A URL with a path is taken as the base URL as it is.
	got, err = ResolveHomeserver(testCtx(t), nil, srv.URL+"/matrix/")
	if err != nil || got != srv.URL+"/matrix" {
		t.Fatalf("ResolveHomeserver(url with path) = %q, %v", got, err)
	}
}

func TestResolveHomeserverRejects(t *testing.T) {
	srv := wellKnownServer(t, true, 200, `{"m.homeserver":{"base_url":"http://matrix.example.org"}}`)
	name := strings.TrimPrefix(srv.URL, "https://")
	if _, err := ResolveHomeserver(testCtx(t), srv.Client(), name); !errors.Is(err, ErrInsecureURL) {
		t.Fatalf("well-known pointing at plain http: %v", err)
	}
	for _, in := range []string{"http://matrix.example.org", "", "example.org/path", "user@example.org"} {
		if _, err := ResolveHomeserver(testCtx(t), nil, in); err == nil {
			t.Fatalf("ResolveHomeserver(%q) accepted", in)
		}
	}
}
