package rendezvous

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// The fakes below imitate the servers' wire behaviour as
// docs/protocol-divergences.md "MSC4388 rendezvous on Synapse" and "2024
// rendezvous" describe Synapse, with hooks to inject the failures the
// clients must survive. They are deliberately independent of the
// rendezvous server package.

// fastRetry keeps the retry tests quick while exercising the same paths.
var fastRetry = RetryPolicy{Attempts: 4, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxRateLimitWait: time.Second}

// fastPoll polls quickly so ping-pong tests take milliseconds.
var fastPoll = PollConfig{Reply: 5 * time.Millisecond, Human: 10 * time.Millisecond}

// hook may answer a request itself (returning true) before the fake does.
type hook func(w http.ResponseWriter, r *http.Request) bool

// dropConnection closes the connection without any answer, as a proxy or a
// network failure after the server processed the request would.
func dropConnection(t testing.TB, w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		t.Fatalf("response writer cannot hijack")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		t.Fatalf("hijack: %v", err)
	}
	conn.Close()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func matrixError(w http.ResponseWriter, status int, errcode, msg string) {
	writeJSON(w, status, map[string]string{"errcode": errcode, "error": msg})
}

// ---- MSC4388 ----

type fake4388Session struct {
	data, token, prevToken string
	expires                time.Time
}

type fake4388 struct {
	t    testing.TB
	srv  *httptest.Server
	path string

	mu              sync.Mutex
	sessions        map[string]*fake4388Session
	nextID, nextTok int
	ttl             time.Duration
	disabled        bool   // 404 M_UNRECOGNIZED everywhere
	requireAuth     string // non-empty: discovery/create need this bearer token
	createAvailable bool
	noIdempotency   bool   // a server that does not implement idempotent retries
	concurrentErr   string // errcode for 409
	hook            hook
	log             []string // "METHOD path auth?"
	sessionAuthSeen bool     // an Authorization header reached a session URL
}

func newFake4388(t testing.TB, path APIPath) *fake4388 {
	f := &fake4388{t: t, path: string(path), sessions: map[string]*fake4388Session{}, ttl: 120 * time.Second,
		createAvailable: true, concurrentErr: ErrcodeConcurrentWriteUnstable}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake4388) setHook(h hook) { f.mu.Lock(); f.hook = h; f.mu.Unlock() }

func (f *fake4388) client(t testing.TB, mod func(*ClientConfig)) *Client {
	cfg := ClientConfig{BaseURL: f.srv.URL, Path: APIPath(f.path), Poll: fastPoll, Retry: fastRetry}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func (f *fake4388) newToken() string { f.nextTok++; return fmt.Sprintf("tok-%d", f.nextTok) }

func (f *fake4388) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	h := f.hook
	f.log = append(f.log, r.Method+" "+r.URL.Path)
	f.mu.Unlock()
	if h != nil && h(w, r) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.disabled {
		matrixError(w, 404, ErrcodeUnrecognized, "Unrecognized request")
		return
	}
	if r.URL.Path == f.path {
		if f.requireAuth != "" && r.Header.Get("Authorization") != "Bearer "+f.requireAuth {
			matrixError(w, 401, "M_MISSING_TOKEN", "Missing access token")
			return
		}
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, 200, map[string]bool{"create_available": f.createAvailable})
		case http.MethodPost:
			var req struct {
				Data *string `json:"data"`
			}
			if json.NewDecoder(r.Body).Decode(&req) != nil || req.Data == nil {
				matrixError(w, 400, "M_INVALID_PARAM", "bad body")
				return
			}
			if len(*req.Data) > 4096 {
				matrixError(w, 413, "M_TOO_LARGE", "too large")
				return
			}
			f.nextID++
			id := fmt.Sprintf("ID%04d", f.nextID)
			s := &fake4388Session{data: *req.Data, token: f.newToken(), expires: time.Now().Add(f.ttl)}
			f.sessions[id] = s
			writeJSON(w, 200, map[string]any{"id": id, "sequence_token": s.token, "expires_in_ms": f.ttl.Milliseconds()})
		default:
			w.WriteHeader(405)
		}
		return
	}
	id, ok := strings.CutPrefix(r.URL.Path, f.path+"/")
	if !ok {
		matrixError(w, 404, ErrcodeUnrecognized, "Unrecognized request")
		return
	}
	if r.Header.Get("Authorization") != "" {
		f.sessionAuthSeen = true
	}
	s := f.sessions[id]
	if s == nil || time.Now().After(s.expires) {
		matrixError(w, 404, ErrcodeNotFound, "Rendezvous session not found")
		return
	}
	remaining := time.Until(s.expires).Milliseconds()
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, 200, map[string]any{"data": s.data, "sequence_token": s.token, "expires_in_ms": remaining})
	case http.MethodPut:
		var req struct {
			Token *string `json:"sequence_token"`
			Data  *string `json:"data"`
		}
		if json.NewDecoder(r.Body).Decode(&req) != nil || req.Data == nil || req.Token == nil {
			matrixError(w, 400, "M_INVALID_PARAM", "bad body")
			return
		}
		if len(*req.Data) > 4096 {
			matrixError(w, 413, "M_TOO_LARGE", "too large")
			return
		}
		if *req.Token != s.token {
			if !f.noIdempotency && *req.Token == s.prevToken && *req.Data == s.data {
				writeJSON(w, 200, map[string]string{"sequence_token": s.token})
				return
			}
			matrixError(w, 409, f.concurrentErr, "Concurrent write")
			return
		}
		s.prevToken, s.data, s.token = s.token, *req.Data, f.newToken()
		writeJSON(w, 200, map[string]string{"sequence_token": s.token})
	case http.MethodDelete:
		delete(f.sessions, id)
		writeJSON(w, 200, map[string]any{})
	default:
		w.WriteHeader(405)
	}
}

// applyThenDrop lets the fake process the request, then throws its answer
// away and drops the connection: the write landed, the response was lost.
func (f *fake4388) applyThenDrop(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	f.mu.Lock()
	f.hook = nil
	f.mu.Unlock()
	f.serve(rec, r)
	dropConnection(f.t, w)
}

// ---- 2024 ETag ----

type fakeETagSession struct {
	data, ctype string
	expires     time.Time
}

type fakeETag struct {
	t   testing.TB
	srv *httptest.Server

	mu        sync.Mutex
	sessions  map[string]*fakeETagSession
	nextID    int
	ttl       time.Duration
	skew      time.Duration // the server's clock runs this far ahead
	unquoted  bool          // ETags without quotes (a lenient standalone server)
	stripETag bool          // a proxy removed the ETag header
	noDate    bool          // no Date header (Expires alone is useless)
	nodeStyle bool          // node-http-rendezvous-server: POST / → 201 Location: id
	delegate  bool          // POST on the homeserver path → 307 to /delegated
	hook      hook
	creates   []*http.Request
	ifMatch   []string
	ifNone    []string
}

func newFakeETag(t testing.TB) *fakeETag {
	f := &fakeETag{t: t, sessions: map[string]*fakeETagSession{}, ttl: 60 * time.Second}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeETag) setHook(h hook) { f.mu.Lock(); f.hook = h; f.mu.Unlock() }

func (f *fakeETag) client(t testing.TB, mod func(*ETagConfig)) *ETagClient {
	cfg := ETagConfig{HomeserverURL: f.srv.URL, Poll: fastPoll, Retry: fastRetry}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewETagClient(cfg)
	if err != nil {
		t.Fatalf("NewETagClient: %v", err)
	}
	return c
}

func (f *fakeETag) etagOf(data string) string {
	sum := sha256.Sum256([]byte(data))
	tag := base64.RawURLEncoding.EncodeToString(sum[:])
	if f.unquoted {
		return tag
	}
	return `"` + tag + `"`
}

func (f *fakeETag) headers(w http.ResponseWriter, s *fakeETagSession) {
	h := w.Header()
	if !f.stripETag {
		h.Set("ETag", f.etagOf(s.data))
	}
	now := time.Now().Add(f.skew)
	if f.noDate {
		h["Date"] = nil // suppress the server's automatic Date
	} else {
		h.Set("Date", now.UTC().Format(http.TimeFormat))
	}
	h.Set("Expires", s.expires.Add(f.skew).UTC().Format(http.TimeFormat))
	h.Set("Last-Modified", now.UTC().Format(http.TimeFormat))
	h.Set("Cache-Control", "no-store, no-transform")
}

func (f *fakeETag) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	h := f.hook
	f.mu.Unlock()
	if h != nil && h(w, r) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	createPath := Path2024
	if f.nodeStyle {
		createPath = "/"
	}
	if r.Method == http.MethodPost && f.delegate && r.URL.Path == Path2024 {
		w.Header().Set("Location", "/delegated")
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	if r.Method == http.MethodPost && (r.URL.Path == createPath || (f.delegate && r.URL.Path == "/delegated")) {
		f.creates = append(f.creates, r.Clone(r.Context()))
		if ct := r.Header.Get("Content-Type"); ct != "text/plain" {
			matrixError(w, 400, "M_INVALID_PARAM", "Content-Type must be text/plain")
			return
		}
		if r.Header.Get("Content-Length") == "" && r.ContentLength != 0 {
			matrixError(w, 400, "M_MISSING_PARAM", "Content-Length")
			return
		}
		f.nextID++
		id := fmt.Sprintf("S%04d", f.nextID)
		s := &fakeETagSession{data: string(body), ctype: "text/plain", expires: time.Now().Add(f.ttl)}
		f.sessions[id] = s
		f.headers(w, s)
		if f.nodeStyle {
			w.Header().Set("Location", id)
			w.WriteHeader(http.StatusCreated)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]string{"url": f.srv.URL + "/_synapse/client/rendezvous/" + id})
		return
	}
	prefix := "/_synapse/client/rendezvous/"
	if f.nodeStyle {
		prefix = "/"
	}
	id, ok := strings.CutPrefix(r.URL.Path, prefix)
	s := f.sessions[id]
	if !ok || s == nil || time.Now().After(s.expires) {
		if f.nodeStyle {
			http.Error(w, "Not Found", 404)
			return
		}
		matrixError(w, 404, ErrcodeNotFound, "Not found")
		return
	}
	switch r.Method {
	case http.MethodGet:
		f.ifNone = append(f.ifNone, r.Header.Get("If-None-Match"))
		f.headers(w, s)
		if inm := r.Header.Get("If-None-Match"); inm != "" && inm == f.etagOf(s.data) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", s.ctype)
		w.WriteHeader(200)
		_, _ = io.WriteString(w, s.data)
	case http.MethodPut:
		f.ifMatch = append(f.ifMatch, r.Header.Get("If-Match"))
		if r.Header.Get("If-Match") != f.etagOf(s.data) {
			f.headers(w, s)
			writeJSON(w, http.StatusPreconditionFailed, map[string]string{"errcode": "M_UNKNOWN",
				"org.matrix.msc4108.errcode": ErrcodeConcurrentWrite, "error": "ETag mismatch"})
			return
		}
		if len(body) > 4096 {
			matrixError(w, 413, "M_TOO_LARGE", "too large")
			return
		}
		s.data, s.ctype = string(body), r.Header.Get("Content-Type")
		f.headers(w, s)
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusAccepted)
	case http.MethodDelete:
		delete(f.sessions, id)
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(405)
	}
}

func (f *fakeETag) applyThenDrop(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	f.mu.Lock()
	f.hook = nil
	f.mu.Unlock()
	f.serve(rec, r)
	dropConnection(f.t, w)
}
