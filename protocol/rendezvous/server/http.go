package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Matrix error codes only the server uses; the ones the clients interpret
// are package rendezvous's.
const (
	errcodeForbidden    = "M_FORBIDDEN"
	errcodeTooLarge     = "M_TOO_LARGE"
	errcodeInvalidParam = "M_INVALID_PARAM"
	errcodeMissingParam = "M_MISSING_PARAM"
	errcodeNotJSON      = "M_NOT_JSON"
	errcodeLimited      = "M_LIMIT_EXCEEDED"
	errcodeMissingToken = "M_MISSING_TOKEN"
	errcodeUnknownToken = "M_UNKNOWN_TOKEN"
)

// corsHeaders are sent on every response. Synapse's JSON defaults plus what
// the 2024 API needs (docs/protocol-divergences.md "CORS"): browsers must be
// allowed to send If-Match/If-None-Match and to read the ETag. Authorization
// is listed explicitly because a wildcard would not cover it.
var corsHeaders = map[string]string{
	"Access-Control-Allow-Origin":   "*",
	"Access-Control-Allow-Methods":  "GET, HEAD, POST, PUT, DELETE, OPTIONS",
	"Access-Control-Allow-Headers":  "X-Requested-With, Content-Type, Authorization, Date, If-Match, If-None-Match",
	"Access-Control-Expose-Headers": "ETag, Expires, Last-Modified, Retry-After",
}

func setCORS(h http.Header) {
	for name, value := range corsHeaders {
		h.Set(name, value)
	}
}

// writeJSON answers with a JSON body. Rendezvous answers change with
// every poll, so no cache may keep them.
func writeJSON(w http.ResponseWriter, status int, body any) {
	encoded, err := json.Marshal(body)
	if err != nil { // only plain maps and structs of strings and numbers are passed
		status, encoded = http.StatusInternalServerError, []byte(`{"errcode":"M_UNKNOWN","error":"internal error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(encoded)))
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	_, _ = w.Write(encoded)
}

// writeError answers with a Matrix standard error response.
func writeError(w http.ResponseWriter, status int, errcode, message string) {
	writeJSON(w, status, map[string]string{"errcode": errcode, "error": message})
}

// writeLimited answers 429 M_LIMIT_EXCEEDED with both the Retry-After
// header (whole seconds, rounded up) and retry_after_ms.
func writeLimited(w http.ResponseWriter, message string, retryAfter time.Duration) {
	if retryAfter < time.Millisecond {
		retryAfter = time.Millisecond
	}
	const maxRetryAfter = 24 * time.Hour
	retryAfter = min(retryAfter, maxRetryAfter)
	seconds := int64((retryAfter + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.FormatInt(seconds, 10))
	writeJSON(w, http.StatusTooManyRequests, map[string]any{
		"errcode":        errcodeLimited,
		"error":          message,
		"retry_after_ms": retryAfter.Milliseconds(),
	})
}

// isBrowserNavigation applies Synapse's four Fetch Metadata rules
// (docs/protocol-divergences.md "MSC4388 rendezvous on Synapse") that MSC4388
// "GET …/{rendezvousId}" asks for: a payload must never be served to a
// browser that will render it, because anyone can write one ("Unsafe
// content"). A request is refused when Sec-Fetch-Dest is present and not
// "empty", Sec-Fetch-Mode is "navigate", Sec-Fetch-User is "?1", or
// Sec-Fetch-Site is "none". A script's fetch() (dest empty, mode cors) and
// non-browser clients, which send none of these headers, pass.
func isBrowserNavigation(h http.Header) bool {
	if dest, present := h["Sec-Fetch-Dest"]; present && (len(dest) == 0 || dest[0] != "empty") {
		return true
	}
	return h.Get("Sec-Fetch-Mode") == "navigate" ||
		h.Get("Sec-Fetch-User") == "?1" ||
		h.Get("Sec-Fetch-Site") == "none"
}

// remainingMillis is expires_in_ms: the time left, never negative.
func remainingMillis(expires, now time.Time) int64 {
	return max(expires.Sub(now).Milliseconds(), 0)
}
