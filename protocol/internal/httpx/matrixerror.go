package httpx

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds on server-chosen text: it ends up in messages shown to people.
const (
	maxErrcodeLen = 64
	maxMessageLen = 200
)

// Error is a Matrix standard error response (Matrix spec "Standard error
// response") or any non-success answer; Errcode is empty when the body was
// not a Matrix error object.
type Error struct {
	Status  int
	Errcode string // e.g. M_NOT_FOUND, M_UNKNOWN_TOKEN
	Message string // the "error" member, on one line and at most 200 bytes
	// RetryAfter is the wait the answer asked for (see RetryAfter), 0 when
	// it named none.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Errcode == "" {
		return fmt.Sprintf("matrix: server answered HTTP %d", e.Status)
	}
	return fmt.Sprintf("matrix: server answered HTTP %d %s: %s", e.Status, e.Errcode, e.Message)
}

// ParseError reads a non-success answer leniently: a body that is not a
// Matrix error object (an HTML page from a proxy, plain text from a
// standalone rendezvous server) yields an *Error with empty Errcode, never
// a parse error. header may be nil; it only feeds RetryAfter.
func ParseError(status int, header http.Header, body []byte) *Error {
	w := decodeError(body)
	e := &Error{Status: status, Errcode: Clip(w.Errcode, maxErrcodeLen), Message: Clip(w.Error, maxMessageLen)}
	e.RetryAfter, _ = retryAfter(header, w.RetryAfterMS)
	return e
}

// wireError is the error body on the wire. The 2024 MSC4108 rendezvous in
// Synapse puts its real code in "org.matrix.msc4108.errcode" beside
// M_UNKNOWN (docs/protocol-divergences.md).
type wireError struct {
	Errcode        string   `json:"errcode"`
	Error          string   `json:"error"`
	MSC4108Errcode string   `json:"org.matrix.msc4108.errcode"`
	RetryAfterMS   *float64 `json:"retry_after_ms"`
}

func decodeError(body []byte) wireError {
	var w wireError
	if json.Unmarshal(body, &w) != nil {
		return wireError{}
	}
	if w.MSC4108Errcode != "" && (w.Errcode == "" || w.Errcode == "M_UNKNOWN") {
		w.Errcode = w.MSC4108Errcode
	}
	return w
}

// Clip puts s on one line and cuts it to at most n bytes on a rune
// boundary, marking the cut with "…": for text from another party that
// goes into an error message.
func Clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
