package server

import (
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/qrlogin/qrlogin/protocol/rendezvous"
)

// The methods each endpoint serves, for the Allow header of a 405.
const (
	allowMSC4388Collection = "GET, HEAD, POST, OPTIONS"
	allowSession           = "GET, HEAD, PUT, DELETE, OPTIONS"
	allowETagCollection    = "POST, OPTIONS"
	allowVersions          = "GET, HEAD, OPTIONS"
)

// methodHandler serves one method of an endpoint. A GET pattern of
// http.ServeMux serves HEAD too.
type methodHandler struct {
	method  string
	handler http.HandlerFunc
}

// newMux routes the endpoints cfg enables. Every other path answers 404
// M_UNRECOGNIZED, as a Synapse whose servlets are not registered.
func (s *Server) newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/", writeUnrecognized)
	if s.cfg.Mode != ModeOff {
		s.handleMSC4388(mux, pathMSC4388Unstable, false)
		if !s.cfg.UnstableOnly {
			s.handleMSC4388(mux, pathMSC4388Stable, true)
		}
	}
	if !s.cfg.DisableETag {
		create := methodHandler{http.MethodPost, s.etagCreate}
		s.handle(mux, pathETagCreate, notAllowed(allowETagCollection), create)
		s.handle(mux, pathETagCreate+"/{$}", notAllowed(allowETagCollection), create)
		s.handle(mux, pathETagSession+"{id...}", notAllowed(allowSession),
			methodHandler{http.MethodGet, s.etagGet},
			methodHandler{http.MethodPut, s.etagPut},
			methodHandler{http.MethodDelete, s.etagDelete})
		// Without this pattern ServeMux would redirect the session prefix
		// without its slash to the prefix, which {id...} matches.
		mux.HandleFunc(strings.TrimSuffix(pathETagSession, "/"), writeUnrecognized)
	}
	if s.cfg.ServeVersions {
		s.handle(mux, pathVersions, notAllowed(allowVersions), methodHandler{http.MethodGet, s.serveVersions})
	}
	return mux
}

// handleMSC4388 routes the MSC4388 API under prefix; stable marks the /v1/
// prefix, which decides the 409 errcode.
func (s *Server) handleMSC4388(mux *http.ServeMux, prefix string, stable bool) {
	discover := methodHandler{http.MethodGet, s.msc4388Discover}
	create := methodHandler{http.MethodPost, s.msc4388Create}
	s.handle(mux, prefix, notAllowed(allowMSC4388Collection), discover, create)
	// The collection with a trailing slash has no pattern for its other
	// methods: a method-less prefix/{$} would conflict with the session's
	// method patterns. {id...} matches prefix/ with an empty ID, and the
	// session handlers answer that with the collection's 405.
	s.handle(mux, prefix+"/{$}", nil, discover, create)
	collectionNotAllowed := notAllowed(allowMSC4388Collection)
	inSession := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.PathValue("id") == "" {
				collectionNotAllowed(w, r)
				return
			}
			h(w, r)
		}
	}
	put := func(w http.ResponseWriter, r *http.Request) { s.msc4388Put(w, r, stable) }
	s.handle(mux, prefix+"/{id...}", inSession(notAllowed(allowSession)),
		methodHandler{http.MethodGet, inSession(s.msc4388Get)},
		methodHandler{http.MethodPut, inSession(put)},
		methodHandler{http.MethodDelete, inSession(s.msc4388Delete)})
}

// handle routes one path pattern: each of its methods, through the rate
// limit (MSC4388 marks every endpoint "Rate-limited: Yes"); OPTIONS, a
// CORS preflight that the headers answer, without counting it; and, unless
// other is nil, any other method, counted, to other.
func (s *Server) handle(mux *http.ServeMux, pattern string, other http.HandlerFunc, methods ...methodHandler) {
	for _, m := range methods {
		mux.HandleFunc(m.method+" "+pattern, s.limited(m.handler))
	}
	mux.HandleFunc(http.MethodOptions+" "+pattern, preflight)
	if other != nil {
		mux.HandleFunc(pattern, s.limited(other))
	}
}

// limited applies the per-client rate limit before h.
func (s *Server) limited(h http.HandlerFunc) http.HandlerFunc {
	if s.limiter == nil {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if ok, wait := s.limiter.allow(s.proxies.clientKey(r), s.cfg.Now()); !ok {
			writeLimited(w, "Too many requests", wait)
			return
		}
		h(w, r)
	}
}

// preflight answers a CORS preflight: the headers say it all.
func preflight(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
}

func writeUnrecognized(w http.ResponseWriter, _ *http.Request) {
	writeError(w, http.StatusNotFound, rendezvous.ErrcodeUnrecognized, "Unrecognized request")
}

// notAllowed answers 405 for a method the endpoint does not serve.
func notAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, rendezvous.ErrcodeUnrecognized, "Unrecognized request method")
	}
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setCORS(w.Header())
	if !strings.HasPrefix(r.URL.Path, "/") { // "OPTIONS *"
		writeUnrecognized(w, r)
		return
	}
	s.mux.ServeHTTP(w, muxRequest(r))
}

// muxRequest returns r as the mux must see it to route by the decoded path,
// segment by segment, as clients mean it: the session ID is the rest of
// the path after an API prefix, whatever it holds. http.ServeMux routes by
// the escaped path, where an escaped slash does not split segments, and
// answers a path with empty, "." or ".." segments with a redirect to its
// cleaned form. Neither happens to a path in canonical form without
// escaped slashes, the only kind clients send; any other is re-escaped so
// that ServeMux splits it as the decoded path reads.
func muxRequest(r *http.Request) *http.Request {
	if r.URL.RawPath == "" && isCanonicalPath(r.URL.Path) {
		return r
	}
	u := *r.URL
	u.RawPath = muxPath(r.URL.Path)
	u.Path, _ = url.PathUnescape(u.RawPath) // muxPath escapes validly
	r = r.WithContext(r.Context())          // a shallow copy
	r.URL = &u
	return r
}

// isCanonicalPath reports whether ServeMux leaves p as it is: no empty,
// "." or ".." segments (a trailing slash is fine).
func isCanonicalPath(p string) bool {
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	return clean == p
}

// muxPath escapes the decoded path p ("/…") so that ServeMux finds the
// segments of p in it and none is empty, "." or "..": a slash that would
// begin an empty segment is escaped into the next segment (%2F), a dot
// segment's dots are escaped (%2E), the rest as url.PathEscape does. Only
// a final empty segment (a trailing slash) stays. Unescaping the result
// gives p, except for one case: ServeMux takes a segment that decodes to
// "/" for a trailing slash, so a final "/" segment (p ends in exactly two
// slashes) becomes "//", which names no session and matches no literal
// segment either.
func muxPath(p string) string {
	parts := strings.Split(p[1:], "/")
	var b strings.Builder
	slashes := 0 // slashes that would begin an empty segment
	for i, part := range parts {
		if part == "" && i < len(parts)-1 {
			slashes++
			continue
		}
		if slashes == 1 && part == "" {
			slashes = 2
		}
		b.WriteByte('/')
		b.WriteString(strings.Repeat("%2F", slashes))
		slashes = 0
		if part == "." || part == ".." {
			b.WriteString(strings.Repeat("%2E", len(part)))
		} else {
			b.WriteString(url.PathEscape(part))
		}
	}
	return b.String()
}
