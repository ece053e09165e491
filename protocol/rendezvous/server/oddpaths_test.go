package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestOddPaths pins how paths no client sends are routed: the
// routing is a function of the decoded path, so a path with empty, "." or
// ".." segments, or with an escaped slash, reaches the endpoint whose
// prefix it starts with (and gets that endpoint's answer) instead of being
// redirected to a cleaned path.
func TestOddPaths(t *testing.T) {
	env := newTestEnv(t, Config{ServeVersions: true})
	p := pathMSC4388Stable
	id, _ := env.create4388(p, "live")
	for _, tc := range []struct {
		method, path, body string
		status             int
		errcode, allow     string
	}{
		{http.MethodGet, p + "/a/../b", "", 404, "M_NOT_FOUND", ""},
		{http.MethodGet, p + "//", "", 404, "M_NOT_FOUND", ""},
		{http.MethodGet, p + "/.", "", 404, "M_NOT_FOUND", ""},
		{http.MethodGet, p + "/..", "", 404, "M_NOT_FOUND", ""},
		{http.MethodDelete, p + "/" + id + "/..", "", 404, "M_NOT_FOUND", ""},
		{http.MethodPut, p + "/a/../b", "not json", 400, "M_NOT_JSON", ""},
		{http.MethodPost, p + "/a/..", "", 405, "M_UNRECOGNIZED", "GET, HEAD, PUT, DELETE, OPTIONS"},
		{http.MethodPut, p + "/", "", 405, "M_UNRECOGNIZED", "GET, HEAD, POST, OPTIONS"},
		{"BREW", p + "/", "", 405, "M_UNRECOGNIZED", "GET, HEAD, POST, OPTIONS"},
		{"BREW", p + "/x", "", 405, "M_UNRECOGNIZED", "GET, HEAD, PUT, DELETE, OPTIONS"},
		{http.MethodGet, "/_matrix//client/v1/rendezvous", "", 404, "M_UNRECOGNIZED", ""},
		{http.MethodGet, "/_matrix/client/./v1/rendezvous", "", 404, "M_UNRECOGNIZED", ""},
		{http.MethodGet, "/_matrix/client/v3/../v1/rendezvous", "", 404, "M_UNRECOGNIZED", ""},
		{http.MethodGet, "/_matrix/client//versions", "", 404, "M_UNRECOGNIZED", ""},
		{http.MethodGet, pathVersions + "/", "", 404, "M_UNRECOGNIZED", ""},
		{http.MethodGet, pathETagCreate + "/x", "", 404, "M_UNRECOGNIZED", ""},
		{http.MethodPost, pathETagCreate + "//", "", 404, "M_UNRECOGNIZED", ""},
		{http.MethodGet, pathETagSession, "", 404, "M_NOT_FOUND", ""},
		{http.MethodGet, pathETagSession + "x/../y", "", 404, "M_NOT_FOUND", ""},
		{http.MethodPut, "/_synapse/client/rendezvous", "", 404, "M_UNRECOGNIZED", ""},
	} {
		resp := env.do(tc.method, tc.path, tc.body)
		if resp.status != tc.status || resp.str(t, "errcode") != tc.errcode || resp.header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d %s (Allow %q), want %d %s (Allow %q)", tc.method, tc.path, resp.status, resp.body, resp.header.Get("Allow"), tc.status, tc.errcode, tc.allow)
		}
	}
	// An escaped slash is a slash: the session is reachable through it.
	env.do(http.MethodGet, "/_matrix/client/v1%2Frendezvous%2F"+id, "").expectStatus(t, http.StatusOK)
	env.do(http.MethodGet, "/_matrix%2Fclient/versions", "").expectStatus(t, http.StatusOK)
	env.do(http.MethodOptions, p+"/a/../b", "").expectStatus(t, http.StatusNoContent)
	env.do(http.MethodOptions, p+"/", "").expectStatus(t, http.StatusNoContent)
	// "OPTIONS *" (the path is "*") names no endpoint.
	rec := httptest.NewRecorder()
	env.server.ServeHTTP(rec, httptest.NewRequest(http.MethodOptions, "*", nil))
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "M_UNRECOGNIZED") {
		t.Errorf("OPTIONS *: %d %s", rec.Code, rec.Body)
	}
}
