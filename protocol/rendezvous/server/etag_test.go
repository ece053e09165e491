package server

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// wantETag is the content-addressed tag Synapse gives body.
func wantETag(body string) string {
	sum := sha256.Sum256([]byte(body))
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:]) + `"`
}

// checkETagHeaders checks the headers every 2024 answer carries.
func checkETagHeaders(t *testing.T, resp testResponse, etag string, modified, expires time.Time) {
	t.Helper()
	h := resp.header
	if h.Get("ETag") != etag {
		t.Errorf("ETag = %q, want %q", h.Get("ETag"), etag)
	}
	if h.Get("Expires") != expires.UTC().Format(http.TimeFormat) {
		t.Errorf("Expires = %q, want %q", h.Get("Expires"), expires.UTC().Format(http.TimeFormat))
	}
	if h.Get("Last-Modified") != modified.UTC().Format(http.TimeFormat) {
		t.Errorf("Last-Modified = %q, want %q", h.Get("Last-Modified"), modified.UTC().Format(http.TimeFormat))
	}
	if h.Get("Cache-Control") != "no-store, no-transform" || h.Get("Pragma") != "no-cache" {
		t.Errorf("cache headers = %q / %q", h.Get("Cache-Control"), h.Get("Pragma"))
	}
	if h.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(h.Get("Access-Control-Expose-Headers"), "ETag") {
		t.Errorf("CORS headers = %q / %q", h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Expose-Headers"))
	}
}

// TestETagLifecycle walks a 2024 session through create, poll,
// 304, write, stale write, delete (docs/protocol-divergences.md "2024
// rendezvous").
func TestETagLifecycle(t *testing.T) {
	env := newTestEnv(t, Config{PublicURL: "https://rv.example.org/", ETagTTL: 60 * time.Second})
	created0 := env.clock.Now()
	expires := created0.Add(60 * time.Second)

	created := env.do(http.MethodPost, pathETagCreate, "hello", "Content-Type", "text/plain")
	created.expectStatus(t, http.StatusCreated)
	if ct := created.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("201 Content-Type = %q", ct)
	}
	url := created.str(t, "url")
	id, ok := strings.CutPrefix(url, "https://rv.example.org/_synapse/client/rendezvous/")
	if !ok || !isOpaqueIdentifier(id) {
		t.Fatalf("session URL %q is not PublicURL + /_synapse/client/rendezvous/ID", url)
	}
	checkETagHeaders(t, created, wantETag("hello"), created0, expires)

	path := pathETagSession + id // the listener is not rv.example.org
	got := env.do(http.MethodGet, path, "")
	got.expectStatus(t, http.StatusOK)
	if string(got.body) != "hello" || got.header.Get("Content-Type") != "text/plain" {
		t.Fatalf("GET = %q (%s)", got.body, got.header.Get("Content-Type"))
	}
	checkETagHeaders(t, got, wantETag("hello"), created0, expires)

	notModified := env.do(http.MethodGet, path, "", "If-None-Match", wantETag("hello"))
	notModified.expectStatus(t, http.StatusNotModified)
	if len(notModified.body) != 0 {
		t.Fatalf("304 with a body: %q", notModified.body)
	}
	checkETagHeaders(t, notModified, wantETag("hello"), created0, expires)

	env.clock.Advance(2 * time.Second)
	written := env.do(http.MethodPut, path, "world", "Content-Type", "text/plain", "If-Match", wantETag("hello"))
	written.expectStatus(t, http.StatusAccepted)
	if len(written.body) != 0 || written.header.Get("Content-Type") != "text/plain" || written.header.Get("Content-Length") != "0" {
		t.Fatalf("202 = %q, Content-Type %q, Content-Length %q", written.body, written.header.Get("Content-Type"), written.header.Get("Content-Length"))
	}
	// Writes do not extend the session: Expires stays.
	checkETagHeaders(t, written, wantETag("world"), created0.Add(2*time.Second), expires)

	polled := env.do(http.MethodGet, path, "", "If-None-Match", wantETag("hello"))
	polled.expectStatus(t, http.StatusOK)
	if string(polled.body) != "world" {
		t.Fatalf("GET after PUT = %q", polled.body)
	}

	stale := env.do(http.MethodPut, path, "again", "Content-Type", "text/plain", "If-Match", wantETag("hello"))
	stale.expectStatus(t, http.StatusPreconditionFailed)
	m := stale.json(t)
	if m["errcode"] != "M_UNKNOWN" || m["org.matrix.msc4108.errcode"] != "M_CONCURRENT_WRITE" {
		t.Fatalf("412 body = %s", stale.body)
	}
	checkETagHeaders(t, stale, wantETag("world"), created0.Add(2*time.Second), expires)

	deleted := env.do(http.MethodDelete, path, "")
	deleted.expectStatus(t, http.StatusNoContent)
	env.do(http.MethodGet, path, "").expectError(t, http.StatusNotFound, "M_NOT_FOUND")
	env.do(http.MethodPut, path, "x", "Content-Type", "text/plain", "If-Match", wantETag("world")).expectError(t, http.StatusNotFound, "M_NOT_FOUND")
	env.do(http.MethodDelete, path, "").expectError(t, http.StatusNotFound, "M_NOT_FOUND")
}

// TestETagContentAddressed: the same body gets the same ETag, in
// another session and after a rewrite of identical content (Synapse's
// behaviour: a peer polling with If-None-Match cannot see such a rewrite).
func TestETagContentAddressed(t *testing.T) {
	env := newTestEnv(t, Config{})
	url1, etag1 := env.createETag("same")
	_, etag2 := env.createETag("same")
	if etag1 != etag2 || etag1 != wantETag("same") {
		t.Fatalf("ETags %q, %q, want both %q", etag1, etag2, wantETag("same"))
	}
	rewrite := env.do(http.MethodPut, url1, "same", "Content-Type", "text/plain", "If-Match", etag1)
	rewrite.expectStatus(t, http.StatusAccepted)
	if rewrite.header.Get("ETag") != etag1 {
		t.Fatalf("rewrite changed the ETag to %q", rewrite.header.Get("ETag"))
	}
	// Empty bodies (rust-sdk creates with one) have a tag too.
	_, empty := env.createETag("")
	if empty != wantETag("") {
		t.Fatalf("empty-body ETag = %q", empty)
	}
}

// TestETagInputChecks: Synapse's header checks on POST and PUT.
func TestETagInputChecks(t *testing.T) {
	env := newTestEnv(t, Config{})
	for _, tc := range []struct {
		name        string
		contentType []string
		body        string
		status      int
		errcode     string
	}{
		{"charset suffix", []string{"text/plain; charset=utf-8"}, "x", 400, "M_INVALID_PARAM"},
		{"json", []string{"application/json"}, "x", 400, "M_INVALID_PARAM"},
		{"missing", nil, "x", 400, "M_INVALID_PARAM"},
		{"twice", []string{"text/plain", "text/plain"}, "x", 400, "M_INVALID_PARAM"},
		{"too large", []string{"text/plain"}, strings.Repeat("x", 4097), 413, "M_TOO_LARGE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			for _, ct := range tc.contentType {
				headers = append(headers, "Content-Type", ct)
			}
			env.do(http.MethodPost, pathETagCreate, tc.body, headers...).expectError(t, tc.status, tc.errcode)
		})
	}
	url, etag := env.createETag(strings.Repeat("x", 4096))

	// A body without Content-Length (chunked) is refused with M_MISSING_PARAM.
	req, _ := http.NewRequest(http.MethodPost, env.http.URL+pathETagCreate, strings.NewReader("chunked"))
	req.ContentLength = -1
	req.Body = io.NopCloser(struct{ io.Reader }{strings.NewReader("chunked")}) // hide the length
	req.Header.Set("Content-Type", "text/plain")
	env.send(req).expectError(t, http.StatusBadRequest, "M_MISSING_PARAM")

	put := func(body string, headers ...string) testResponse {
		return env.do(http.MethodPut, url, body, headers...)
	}
	put("y", "Content-Type", "text/plain").expectError(t, http.StatusBadRequest, "M_MISSING_PARAM")
	put("y", "Content-Type", "text/plain", "If-Match", strings.Trim(etag, `"`)).expectError(t, http.StatusBadRequest, "M_INVALID_PARAM")
	put("y", "If-Match", etag).expectError(t, http.StatusBadRequest, "M_INVALID_PARAM")
	put(strings.Repeat("y", 4097), "Content-Type", "text/plain", "If-Match", etag).expectError(t, http.StatusRequestEntityTooLarge, "M_TOO_LARGE")
	// If-Match uses the strong comparison: a weak tag never matches.
	put("y", "Content-Type", "text/plain", "If-Match", "W/"+etag).expectStatus(t, http.StatusPreconditionFailed)
	// A list naming the current tag, and "*", match.
	put("y", "Content-Type", "text/plain", "If-Match", `"other", `+etag).expectStatus(t, http.StatusAccepted)
	put("z", "Content-Type", "text/plain", "If-Match", "*").expectStatus(t, http.StatusAccepted)
}

// TestETagIfNoneMatch: the weak comparison, lists, "*" and malformed
// values.
func TestETagIfNoneMatch(t *testing.T) {
	env := newTestEnv(t, Config{})
	url, etag := env.createETag("body")
	for _, tc := range []struct {
		value  string
		status int
	}{
		{etag, 304},
		{"W/" + etag, 304},
		{`"a", ` + etag, 304},
		{"*", 304},
		{`"other"`, 200},
		{strings.Trim(etag, `"`), 400},
		{`"unterminated`, 400},
	} {
		resp := env.do(http.MethodGet, url, "", "If-None-Match", tc.value)
		if resp.status != tc.status {
			t.Errorf("If-None-Match %q: status %d, want %d", tc.value, resp.status, tc.status)
		}
	}
}

// TestETagExpiry: a 2024 session ends ETagTTL after creation, PUTs
// do not extend it.
func TestETagExpiry(t *testing.T) {
	env := newTestEnv(t, Config{TTL: 300 * time.Second, ETagTTL: 60 * time.Second})
	url, etag := env.createETag("a")
	env.clock.Advance(30 * time.Second)
	env.do(http.MethodPut, url, "b", "Content-Type", "text/plain", "If-Match", etag).expectStatus(t, http.StatusAccepted)
	env.clock.Advance(30*time.Second - time.Millisecond)
	env.do(http.MethodGet, url, "").expectStatus(t, http.StatusOK)
	env.clock.Advance(time.Millisecond)
	env.do(http.MethodGet, url, "").expectError(t, http.StatusNotFound, "M_NOT_FOUND")
	env.do(http.MethodDelete, url, "").expectError(t, http.StatusNotFound, "M_NOT_FOUND")
}

// TestETagURLFromHost: without PublicURL, the session URL is built
// from the request's Host, and it works.
func TestETagURLFromHost(t *testing.T) {
	env := newTestEnv(t, Config{})
	url, _ := env.createETag("a")
	if !strings.HasPrefix(url, env.http.URL+pathETagSession) {
		t.Fatalf("session URL %q not under %s", url, env.http.URL)
	}
	env.do(http.MethodGet, url, "").expectStatus(t, http.StatusOK)
}

// TestETagSeparateFromMSC4388: a 2024 session is not reachable
// through the MSC4388 paths and vice versa.
func TestETagSeparateFromMSC4388(t *testing.T) {
	env := newTestEnv(t, Config{})
	id, _ := env.create4388(pathMSC4388Unstable, "a")
	env.do(http.MethodGet, pathETagSession+id, "").expectError(t, http.StatusNotFound, "M_NOT_FOUND")
	env.do(http.MethodDelete, pathETagSession+id, "").expectError(t, http.StatusNotFound, "M_NOT_FOUND")
	env.do(http.MethodGet, pathMSC4388Unstable+"/"+id, "").expectStatus(t, http.StatusOK)
}

// TestETagCompareAndSwapRace: many writers with the same If-Match;
// exactly one gets 202.
func TestETagCompareAndSwapRace(t *testing.T) {
	env := newTestEnv(t, Config{})
	url, etag := env.createETag("start")
	const writers = 32
	statuses := make([]int, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			statuses[i] = env.do(http.MethodPut, url, "writer-"+string(rune('A'+i)), "Content-Type", "text/plain", "If-Match", etag).status
		})
	}
	wg.Wait()
	accepted := 0
	for i, status := range statuses {
		switch status {
		case http.StatusAccepted:
			accepted++
		case http.StatusPreconditionFailed:
		default:
			t.Fatalf("writer %d got %d", i, status)
		}
	}
	if accepted != 1 {
		t.Fatalf("%d writers won, want exactly 1", accepted)
	}
}

// TestETagListMatches covers the entity-tag list grammar directly.
func TestETagListMatches(t *testing.T) {
	const cur = `"abc"`
	for _, tc := range []struct {
		field       string
		weak        bool
		match, fail bool
	}{
		{`"abc"`, false, true, false},
		{` "abc" `, false, true, false},
		{`W/"abc"`, false, false, false},
		{`W/"abc"`, true, true, false},
		{`"x","abc"`, false, true, false},
		{`"x" , ,"abc",`, false, true, false},
		{`"x"`, false, false, false},
		{`*`, false, true, false},
		{` * `, true, true, false},
		{`""`, false, false, false},
		{``, false, false, true},
		{` , `, false, false, true},
		{`abc`, false, false, true},
		{`"abc`, false, false, true},
		{`"a"b"`, false, false, true},
		{`"a" "b"`, false, false, true},
		{`"a b"`, false, false, true},
		{`"abc", *`, false, false, true},
		{`W/`, false, false, true},
		{`w/"abc"`, false, false, true},
	} {
		match, err := etagListMatches(tc.field, cur, tc.weak)
		if (err != nil) != tc.fail || match != tc.match {
			t.Errorf("etagListMatches(%q, weak=%v) = %v, %v; want match %v, error %v", tc.field, tc.weak, match, err, tc.match, tc.fail)
		}
	}
}
