package server

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/qrlogin/qrlogin/protocol/rendezvous"
)

// The 2024 MSC4108 rendezvous API as Synapse serves it
// (docs/protocol-divergences.md "2024 rendezvous" and "ETag handling"):
// text/plain bodies, content-addressed ETags, If-Match / If-None-Match,
// 201/200/304/202/412/204.

// etagSnapshot is what the 2024 headers describe, copied out under the
// store's lock.
type etagSnapshot struct {
	data     string
	etag     string
	modified time.Time
	expires  time.Time
}

func (snap etagSnapshot) setHeaders(h http.Header) {
	// rust-sdk refuses POST and GET answers without ETag, Expires and
	// Last-Modified; the cache headers keep proxies from serving stale
	// payloads.
	h.Set(rendezvous.HeaderETag, snap.etag)
	h.Set("Expires", snap.expires.UTC().Format(http.TimeFormat))
	h.Set("Last-Modified", snap.modified.UTC().Format(http.TimeFormat))
	h.Set("Cache-Control", "no-store, no-transform")
	h.Set("Pragma", "no-cache")
}

func snapshotOf(sess *session) etagSnapshot {
	return etagSnapshot{data: sess.data, etag: sess.token, modified: sess.modified, expires: sess.expires}
}

// readETagBody applies Synapse's input checks to POST and PUT: a
// Content-Length header is required (400 M_MISSING_PARAM), the body may
// not exceed 4096 bytes (413 M_TOO_LARGE), and Content-Type must be
// text/plain with no parameters (400 M_INVALID_PARAM; Synapse compares the
// whole value, so "text/plain; charset=utf-8" is refused). It answers the
// request itself and returns ok == false on refusal.
func readETagBody(w http.ResponseWriter, r *http.Request) (body []byte, ok bool) {
	if r.ContentLength < 0 || len(r.Header.Values("Content-Length")) == 0 {
		writeError(w, http.StatusBadRequest, errcodeMissingParam, "Content-Length header required")
		return nil, false
	}
	if r.ContentLength > rendezvous.MaxPayload {
		writeError(w, http.StatusRequestEntityTooLarge, errcodeTooLarge, "Payload too large")
		return nil, false
	}
	if types := r.Header.Values("Content-Type"); len(types) != 1 || !strings.EqualFold(strings.TrimSpace(types[0]), "text/plain") {
		writeError(w, http.StatusBadRequest, errcodeInvalidParam, "Content-Type must be text/plain")
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rendezvous.MaxPayload))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, errcodeTooLarge, "Payload too large")
		return nil, false
	case err != nil:
		writeError(w, http.StatusBadRequest, errcodeInvalidParam, "Could not read the request body")
		return nil, false
	}
	return body, true
}

// etagCreate is POST /_matrix/client/unstable/org.matrix.msc4108/rendezvous.
func (s *Server) etagCreate(w http.ResponseWriter, r *http.Request) {
	body, ok := readETagBody(w, r)
	if !ok {
		return
	}
	now := s.cfg.Now()
	sess := &session{kind: kindETag, data: string(body), token: etagOf(body), modified: now, expires: now.Add(s.cfg.ETagTTL)}
	snap := snapshotOf(sess) // before insert: then the session is shared
	id, ok := s.insert(w, r, now, sess, nil)
	if !ok {
		return
	}
	snap.setHeaders(w.Header())
	writeJSON(w, http.StatusCreated, map[string]string{"url": s.sessionURL(r, id)})
}

// sessionURL is where a 2024 session lives: under the server's public
// base URL, at /_synapse/client/rendezvous/{id} as Synapse puts it. The
// POST answers it absolute, so behind a reverse proxy it must name the
// proxy: Config.PublicURL, else what a trusted proxy forwarded, else the
// request's own scheme and Host.
func (s *Server) sessionURL(r *http.Request, id string) string {
	base := s.cfg.PublicURL
	if base == "" {
		var forwarded bool
		if base, forwarded = s.proxies.forwardedBase(r); !forwarded {
			base = requestScheme(r) + "://" + r.Host
		}
	}
	return base + pathETagSession + id
}

// etagGet is GET {session URL}: 200 with the payload, or 304 when
// If-None-Match names the current ETag. Browser navigation is refused as on
// the MSC4388 path (Synapse does not check here, but a script's fetch and
// every native client pass the check, and the payload is as untrusted).
func (s *Server) etagGet(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if isBrowserNavigation(r.Header) {
		writeError(w, http.StatusForbidden, errcodeForbidden, "Rendezvous content is not served to browser navigation")
		return
	}
	var snap etagSnapshot
	if !isOpaqueIdentifier(id) || !s.store.with(s.cfg.Now(), kindETag, id, func(sess *session) { snap = snapshotOf(sess) }) {
		writeNoSession(w)
		return
	}
	if conditions := r.Header.Values(rendezvous.HeaderIfNoneMatch); len(conditions) > 0 {
		matched, err := etagListMatches(strings.Join(conditions, ","), snap.etag, true)
		if err != nil {
			writeError(w, http.StatusBadRequest, errcodeInvalidParam, "Malformed If-None-Match header")
			return
		}
		if matched {
			snap.setHeaders(w.Header())
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	snap.setHeaders(w.Header())
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", strconv.Itoa(len(snap.data)))
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, snap.data)
}

// etagPut is PUT {session URL} with If-Match (required): 202 on success,
// 412 with the concurrent-write error when the ETag does not match.
func (s *Server) etagPut(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, ok := readETagBody(w, r)
	if !ok {
		return
	}
	conditions := r.Header.Values(rendezvous.HeaderIfMatch)
	if len(conditions) == 0 {
		writeError(w, http.StatusBadRequest, errcodeMissingParam, "If-Match header required")
		return
	}
	condition := strings.Join(conditions, ",")
	if _, err := etagListMatches(condition, `""`, false); err != nil {
		writeError(w, http.StatusBadRequest, errcodeInvalidParam, "Malformed If-Match header")
		return
	}
	now := s.cfg.Now()
	var snap etagSnapshot
	var matched bool
	found := isOpaqueIdentifier(id) && s.store.with(now, kindETag, id, func(sess *session) {
		matched, _ = etagListMatches(condition, sess.token, false)
		if matched {
			sess.data = string(body)
			sess.token = etagOf(body)
			sess.modified = now
		}
		snap = snapshotOf(sess)
	})
	if !found {
		writeNoSession(w)
		return
	}
	snap.setHeaders(w.Header())
	if !matched {
		writeJSON(w, http.StatusPreconditionFailed, map[string]string{
			"errcode":                   rendezvous.ErrcodeUnknown,
			"error":                     "ETag does not match",
			rendezvous.ETagErrcodeField: rendezvous.ErrcodeConcurrentWrite,
		})
		return
	}
	// An empty 202 still carries a Content-Type and Content-Length, which
	// Synapse adds so that proxies keep the ETag header.
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusAccepted)
}

// etagDelete is DELETE {session URL}: 204.
func (s *Server) etagDelete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !isOpaqueIdentifier(id) || !s.store.remove(s.cfg.Now(), kindETag, id) {
		writeNoSession(w)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
