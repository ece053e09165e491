package rendezvous

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Matrix error codes the server answers with.
const (
	srvErrNotFound     = "M_NOT_FOUND"
	srvErrUnrecognized = "M_UNRECOGNIZED"
	srvErrForbidden    = "M_FORBIDDEN"
	srvErrTooLarge     = "M_TOO_LARGE"
	srvErrInvalidParam = "M_INVALID_PARAM"
	srvErrMissingParam = "M_MISSING_PARAM"
	srvErrNotJSON      = "M_NOT_JSON"
	srvErrLimited      = "M_LIMIT_EXCEEDED"
	srvErrMissingToken = "M_MISSING_TOKEN"
	srvErrUnknownToken = "M_UNKNOWN_TOKEN"
	srvErrUnknown      = "M_UNKNOWN"
	// MSC4388 "Unstable prefix": the unstable errcode is served under the
	// unstable path (as Synapse), the stable one under /v1/.
	srvErrConcurrentWriteUnstable = "IO_ELEMENT_MSC4388_CONCURRENT_WRITE"
	srvErrConcurrentWriteStable   = "M_CONCURRENT_WRITE"
	// 2024 API: 412 carries M_UNKNOWN plus this extra field
	// (REFERENCE-IMPLEMENTATIONS.md §3.1).
	srvETagErrcodeField = "org.matrix.msc4108.errcode"
)

// srvCORSHeaders are sent on every response. Synapse's JSON defaults
// (REFERENCE-IMPLEMENTATIONS.md §2) plus what the 2024 API needs (§3.1):
// browsers must be allowed to send If-Match/If-None-Match and to read the
// ETag. Authorization is listed explicitly because a wildcard would not
// cover it.
var srvCORSHeaders = map[string]string{
	"Access-Control-Allow-Origin":   "*",
	"Access-Control-Allow-Methods":  "GET, HEAD, POST, PUT, DELETE, OPTIONS",
	"Access-Control-Allow-Headers":  "X-Requested-With, Content-Type, Authorization, Date, If-Match, If-None-Match",
	"Access-Control-Expose-Headers": "ETag, Expires, Last-Modified, Retry-After",
}

func srvSetCORS(h http.Header) {
	for name, value := range srvCORSHeaders {
		h.Set(name, value)
	}
}

// srvWriteJSON answers with a JSON body. Rendezvous answers change with
// every poll, so no cache may keep them.
func srvWriteJSON(w http.ResponseWriter, status int, body any) {
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

// srvWriteError answers with a Matrix standard error response.
func srvWriteError(w http.ResponseWriter, status int, errcode, message string) {
	srvWriteJSON(w, status, map[string]string{"errcode": errcode, "error": message})
}

// srvWriteLimited answers 429 M_LIMIT_EXCEEDED with both the Retry-After
// header (whole seconds, rounded up) and retry_after_ms.
func srvWriteLimited(w http.ResponseWriter, message string, retryAfter time.Duration) {
	if retryAfter < time.Millisecond {
		retryAfter = time.Millisecond
	}
	const maxRetryAfter = 24 * time.Hour
	retryAfter = min(retryAfter, maxRetryAfter)
	seconds := int64((retryAfter + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.FormatInt(seconds, 10))
	srvWriteJSON(w, http.StatusTooManyRequests, map[string]any{
		"errcode":        srvErrLimited,
		"error":          message,
		"retry_after_ms": retryAfter.Milliseconds(),
	})
}

// srvIsBrowserNavigation applies Synapse's four Fetch Metadata rules
// (REFERENCE-IMPLEMENTATIONS.md §2) that MSC4388 "GET …/{rendezvousId}"
// asks for: a payload must never be served to a browser that will render
// it, because anyone can write one ("Unsafe content"). A request is
// refused when Sec-Fetch-Dest is present and not "empty", Sec-Fetch-Mode is
// "navigate", Sec-Fetch-User is "?1", or Sec-Fetch-Site is "none". A
// script's fetch() (dest empty, mode cors) and non-browser clients, which
// send none of these headers, pass.
func srvIsBrowserNavigation(h http.Header) bool {
	if dest, present := h["Sec-Fetch-Dest"]; present && (len(dest) == 0 || dest[0] != "empty") {
		return true
	}
	return h.Get("Sec-Fetch-Mode") == "navigate" ||
		h.Get("Sec-Fetch-User") == "?1" ||
		h.Get("Sec-Fetch-Site") == "none"
}

// srvRemainingMillis is expires_in_ms: the time left, never negative.
func srvRemainingMillis(expires, now time.Time) int64 {
	return max(expires.Sub(now).Milliseconds(), 0)
}
