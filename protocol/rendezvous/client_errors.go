package rendezvous

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/qrlogin/qrlogin/protocol/internal/httpx"
	"github.com/qrlogin/qrlogin/protocol/internal/secureurl"
)

// Errors the rendezvous clients return. Callers match them with errors.Is;
// an *HTTPError or *NetworkError carrying one of them gives the details.
var (
	// ErrNotEnabled: the server does not serve this rendezvous API
	// (404 M_UNRECOGNIZED, or no such endpoint at all).
	ErrNotEnabled = errors.New("rendezvous: the server does not offer this rendezvous API")
	// ErrNeedsAccount: the server lets only signed-in devices create
	// sessions (401/403 on discovery or create, or create_available false).
	ErrNeedsAccount = errors.New("rendezvous: the server lets only signed-in devices create rendezvous sessions")
	// ErrExpired: the session is gone: expired (by the server's relative
	// expiry as measured here, or 404 M_NOT_FOUND), evicted or cancelled.
	ErrExpired = errors.New("rendezvous: the session has expired or was cancelled")
	// ErrConcurrentWrite: somebody else wrote since the token/ETag we hold
	// (409 M_CONCURRENT_WRITE / IO_ELEMENT_MSC4388_CONCURRENT_WRITE, or 412).
	ErrConcurrentWrite = errors.New("rendezvous: the session was written concurrently")
	// ErrTooLarge: the payload exceeds the server's limit (413 M_TOO_LARGE).
	ErrTooLarge = errors.New("rendezvous: the payload is too large for the server")
	// ErrRateLimited: the server kept answering 429 beyond our patience.
	ErrRateLimited = errors.New("rendezvous: the server is rate limiting us")
	// ErrForbidden: the server refused a session request (403 on GET).
	ErrForbidden = errors.New("rendezvous: the server refused the request")
	// ErrNetwork: the server could not be reached, or kept failing (5xx),
	// after a few retries.
	ErrNetwork = errors.New("rendezvous: network error")
	// ErrMalformedResponse: the server's answer does not have the shape the
	// protocol prescribes (bad JSON, missing field, oversized body).
	ErrMalformedResponse = errors.New("rendezvous: malformed server response")
	// ErrMissingETag: a 2024 rendezvous response had no ETag header, which
	// usually means a proxy stripped it; the protocol cannot work without it.
	ErrMissingETag = errors.New("rendezvous: the server's response has no ETag header (a proxy may have stripped it)")
	// ErrInsecureURL: a URL uses http:// for a host that is not loopback,
	// or a scheme other than http/https. It is the one transport rule's
	// error (protocol/internal/secureurl), which the OAuth client's
	// errors match too.
	ErrInsecureURL = secureurl.ErrInsecure
)

// HTTPError is a non-success answer from a rendezvous server. Kind is the
// sentinel it maps to (nil when none applies); errors.Is sees through it.
type HTTPError struct {
	Status  int
	Errcode string
	Message string
	Kind    error
}

func (e *HTTPError) Error() string {
	var b strings.Builder
	b.WriteString("rendezvous: HTTP ")
	fmt.Fprintf(&b, "%d %s", e.Status, http.StatusText(e.Status))
	if e.Errcode != "" {
		b.WriteString(" (" + e.Errcode + ")")
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

func (e *HTTPError) Unwrap() error { return e.Kind }

// NetworkError reports a request that failed every attempt, by transport
// error or 5xx answer. errors.Is(err, ErrNetwork) holds; Err is the last
// failure (possibly an *HTTPError for a 5xx).
type NetworkError struct {
	Op       string
	Attempts int
	Err      error
}

func (e *NetworkError) Error() string {
	return fmt.Sprintf("rendezvous: %s failed after %d attempts: %v", e.Op, e.Attempts, e.Err)
}

func (e *NetworkError) Unwrap() []error { return []error{ErrNetwork, e.Err} }

// opKind says which kind of request an error answers; the same status means
// different things for a session request and for discovery/create.
type opKind int

const (
	opSession opKind = iota // GET/PUT/DELETE on an existing session
	opCreate                // discovery or create
)

// newHTTPError maps a status and body to an *HTTPError with its sentinel
// (MSC4388 response code lists; docs/protocol-divergences.md "MSC4388
// rendezvous on Synapse" and "2024 rendezvous").
func newHTTPError(op opKind, status int, body []byte) *HTTPError {
	m := httpx.ParseError(status, nil, body)
	e := &HTTPError{Status: status, Errcode: m.Errcode, Message: m.Message}
	switch {
	case status == http.StatusNotFound && m.Errcode == ErrcodeUnrecognized:
		e.Kind = ErrNotEnabled
	case status == http.StatusNotFound && op == opSession:
		e.Kind = ErrExpired
	case (status == http.StatusNotFound || status == http.StatusMethodNotAllowed ||
		status == http.StatusNotImplemented) && op == opCreate:
		e.Kind = ErrNotEnabled
	case (status == http.StatusUnauthorized || status == http.StatusForbidden) && op == opCreate:
		e.Kind = ErrNeedsAccount
	case status == http.StatusForbidden:
		e.Kind = ErrForbidden
	case status == http.StatusConflict, status == http.StatusPreconditionFailed:
		e.Kind = ErrConcurrentWrite
	case status == http.StatusRequestEntityTooLarge:
		e.Kind = ErrTooLarge
	case status == http.StatusTooManyRequests:
		e.Kind = ErrRateLimited
	}
	return e
}

func malformed(what string, err error) error {
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrMalformedResponse, what, err)
	}
	return fmt.Errorf("%w: %s", ErrMalformedResponse, what)
}
