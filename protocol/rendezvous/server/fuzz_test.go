package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzHandler sends arbitrary methods, paths, headers and bodies to
// the handler, next to live sessions of both generations whose IDs and
// tokens the input can name through placeholders ({id}, {token}, {etagid},
// {etag}). No input may panic or produce a 500, and every JSON answer must
// be valid JSON.
func FuzzHandler(f *testing.F) {
	seeds := []struct {
		method, path, body string
		headers            uint8
		value              string
	}{
		{"GET", pathMSC4388Unstable, "", 0, ""},
		{"POST", pathMSC4388Stable, `{"data":"hello"}`, 0, ""},
		{"GET", pathMSC4388Unstable + "/{id}", "", 0, ""},
		{"PUT", pathMSC4388Unstable + "/{id}", `{"sequence_token":"{token}","data":"x"}`, 0, ""},
		{"PUT", pathMSC4388Stable + "/{id}", `{"sequence_token":"old","data":"payload"}`, 0, ""},
		{"DELETE", pathMSC4388Stable + "/{id}", "", 0, ""},
		{"POST", pathETagCreate, "hello", 1 | 2, "text/plain"},
		{"GET", pathETagSession + "{etagid}", "", 8, "{etag}"},
		{"PUT", pathETagSession + "{etagid}", "new", 1 | 2 | 4, "{etag}"},
		{"PUT", pathETagSession + "{etagid}", "new", 1 | 2 | 4, `W/"x", *`},
		{"DELETE", pathETagSession + "{etagid}", "", 0, ""},
		{"OPTIONS", pathETagSession + "x", "", 0, ""},
		{"GET", pathMSC4388Unstable + "/{id}", "", 16, "document"},
		{"POST", pathMSC4388Unstable, `{"data":"` + strings.Repeat("a", 5000) + `"}`, 0, ""},
		{"GET", pathVersions, "", 32, "Bearer x"},
		{"BREW", "/", "\x00\xff", 255, "\r\n"},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.body, s.headers, s.value)
	}

	clock := newTestClock()
	server := New(Config{
		TTL: 100 * time.Second, ETagTTL: 50 * time.Second, MaxSessions: 200,
		Rate: RequestRate{Requests: 1000, Per: time.Second}, ServeVersions: true, Now: clock.Now,
		// The fuzzed requests come from 192.0.2.1: X-Forwarded-For counts.
		TrustedProxies:       []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")},
		MaxSessionsPerClient: 150, CreateRate: RequestRate{Requests: 600, Per: time.Minute},
	})
	f.Cleanup(server.Close)

	f.Fuzz(func(t *testing.T, method, path, body string, headers uint8, value string) {
		clock.Advance(time.Second)
		id, token := fuzzCreate4388(t, server)
		etagID, etag := fuzzCreateETag(t, server)
		expand := strings.NewReplacer("{id}", id, "{token}", token, "{etagid}", etagID, "{etag}", etag).Replace
		path, body, value = expand(path), expand(body), expand(value)

		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequest(method, "http://rv.test", strings.NewReader(body))
		if err != nil {
			return // not a request a server could receive
		}
		req.URL.Path = path
		req.RemoteAddr = "192.0.2.1:1234"
		names := []string{"Content-Type", "Content-Length", "If-Match", "If-None-Match", "Sec-Fetch-Dest", "Authorization", "Sec-Fetch-Site", "X-Forwarded-For"}
		for bit, name := range names {
			if headers&(1<<bit) == 0 {
				continue
			}
			switch name {
			case "Content-Length":
				req.Header.Set(name, strconv.Itoa(len(body)))
			default:
				req.Header.Set(name, value)
			}
		}
		rec := httptest.NewRecorder()
		server.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s: status %d (%s)", method, path, rec.Code, rec.Body)
		}
		if rec.Header().Get("Content-Type") == "application/json" && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s: invalid JSON answer %q", method, path, rec.Body)
		}
		if rec.Header().Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("%s %s: no CORS header", method, path)
		}
	})
}

func fuzzCreate4388(t *testing.T, server *Server) (id, token string) {
	rec := httptest.NewRecorder()
	server.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, pathMSC4388Unstable, strings.NewReader(`{"data":"payload"}`)))
	if rec.Code != http.StatusOK {
		return "none", "none"
	}
	var created struct {
		ID            string `json:"id"`
		SequenceToken string `json:"sequence_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil {
		t.Fatal(err)
	}
	return created.ID, created.SequenceToken
}

func fuzzCreateETag(t *testing.T, server *Server) (id, etag string) {
	req := httptest.NewRequest(http.MethodPost, pathETagCreate, strings.NewReader("payload"))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Content-Length", "7")
	rec := httptest.NewRecorder()
	server.ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated {
		return "none", `"none"`
	}
	var body struct{ URL string }
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	return body.URL[strings.LastIndex(body.URL, "/")+1:], rec.Header().Get("ETag")
}

// FuzzETagListMatches: the entity-tag list parser never panics, its
// verdict on syntax does not depend on the comparison, and a strong match
// implies a weak one.
func FuzzETagListMatches(f *testing.F) {
	for _, s := range []string{`"abc"`, `W/"abc"`, `*`, `"a", "abc"`, ``, `"`, `,,`, `W/`, "\"\x80\"", `"a"b`} {
		f.Add(s, `"abc"`)
	}
	f.Fuzz(func(t *testing.T, field, current string) {
		strong, errStrong := etagListMatches(field, current, false)
		weak, errWeak := etagListMatches(field, current, true)
		if (errStrong == nil) != (errWeak == nil) {
			t.Fatalf("%q: syntax verdict depends on the comparison: %v vs %v", field, errStrong, errWeak)
		}
		if strong && !weak {
			t.Fatalf("%q matches %q strongly but not weakly", field, current)
		}
		if errStrong != nil && (strong || weak) {
			t.Fatalf("%q: match reported with an error", field)
		}
	})
}

// FuzzParseRequestRate: the CLI's --rate parser never panics and what it
// accepts prints back to the same rate.
func FuzzParseRequestRate(f *testing.F) {
	for _, s := range []string{"60/min", "10/s", "0", "5/30s", "1/h,burst=3", "x", "/", ",burst=", "9999999999999999999/s", "1/1ns"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		r, err := ParseRequestRate(text)
		if err != nil {
			return
		}
		back, err := ParseRequestRate(r.String())
		if err != nil || back != r {
			t.Fatalf("%q → %+v → %q → %+v, %v", text, r, r.String(), back, err)
		}
	})
}

// FuzzMuxPath: whatever the decoded path, the path the mux routes by is one
// it does not redirect, and it decodes to the same path (but for a final
// segment "/", which becomes "//").
func FuzzMuxPath(f *testing.F) {
	for _, s := range []string{"/", "//", "/a//b", "/a/./b/../c", "/a//", "/a///", "/.", "/..", "/a%2Fb", "/a b/é", "/%", "/a/.../b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if !strings.HasPrefix(p, "/") {
			return
		}
		escaped := muxPath(p)
		if !isCanonicalPath(escaped) {
			t.Fatalf("%q → %q, which ServeMux would redirect", p, escaped)
		}
		decoded, err := url.PathUnescape(escaped)
		want := p
		if strings.HasSuffix(p, "//") && !strings.HasSuffix(p, "///") {
			want = p + "/"
		}
		if err != nil || decoded != want {
			t.Fatalf("%q → %q → %q, %v; want %q", p, escaped, decoded, err, want)
		}
	})
}

// FuzzProxyHeaders: whatever peer address and X-Forwarded-* headers a
// request carries, deriving its client key and session base never panics;
// a peer that is not a trusted proxy is keyed by its own address, as if
// no proxy were configured; a forwarded base is http(s)://host and
// nothing more.
func FuzzProxyHeaders(f *testing.F) {
	for _, s := range [][4]string{
		{"10.0.0.1:443", "198.51.100.1", "https", "rv.example.org"},
		{"10.0.0.1:443", "203.0.113.9, 198.51.100.1, 10.2.3.4", "https, http", "rv.example.org:8448, lan"},
		{"[2001:db8:ffff::1]:1", "[2001:db8::1]:80", "HTTP", "[2001:db8::1]:8443"},
		{"192.0.2.1:1", "198.51.100.1", "https", "rv.example.org"},
		{"10.0.0.1:1", "garbage,,", "javascript", "rv.example.org/x?y#z"},
		{"[::ffff:10.0.0.1]:1", "fe80::1%eth0", "", "user@host"},
		{"not-an-address", "", "https", "[::1"},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	policy := newProxyPolicy([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}, false)
	direct := newProxyPolicy(nil, false)
	f.Fuzz(func(t *testing.T, remote, xff, proto, host string) {
		r := httptest.NewRequest(http.MethodPost, pathETagCreate, nil)
		r.RemoteAddr = remote
		r.Header["X-Forwarded-For"] = strings.Split(xff, "\n")
		r.Header["X-Forwarded-Proto"] = []string{proto}
		r.Header["X-Forwarded-Host"] = []string{host}
		key := policy.clientKey(r)
		if !policy.fromTrustedProxy(r) && key != direct.clientKey(r) {
			t.Fatalf("untrusted peer %q keyed %q, not by its own address %q", remote, key, direct.clientKey(r))
		}
		base, ok := policy.forwardedBase(r)
		if !ok {
			return
		}
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
			t.Fatalf("forwarded base %q (from proto %q, host %q): %+v, %v", base, proto, host, u, err)
		}
	})
}
