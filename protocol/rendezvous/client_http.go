package rendezvous

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/qrlogin/qrlogin/protocol/internal/httpx"
	"github.com/qrlogin/qrlogin/protocol/internal/secureurl"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// maxResponseBody bounds every response body the clients read. Payloads are
// at most 4096 bytes (MSC4388 "Maximum payload size"); JSON escaping can
// inflate that up to six-fold, so 64 KiB leaves room without letting a
// hostile server make us buffer megabytes.
const maxResponseBody = 64 << 10

// defaultRequestTimeout bounds one HTTP exchange when the caller gave no
// *http.Client of its own; polls are short requests.
const defaultRequestTimeout = 30 * time.Second

// BearerToken is an access token. It never prints: fmt, %v, %#v and JSON
// show [redacted].
type BearerToken string

const redactedText = "[redacted]"

func (BearerToken) String() string                  { return redactedText }
func (BearerToken) GoString() string                { return redactedText }
func (BearerToken) MarshalJSON() ([]byte, error)    { return []byte(`"` + redactedText + `"`), nil }
func (t BearerToken) authorization() (string, bool) { return "Bearer " + string(t), t != "" }

// Format covers every verb (%d, %x, %q ... would otherwise print the token).
func (BearerToken) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redactedText) }

// PollConfig sets how often Receive polls for each Pace.
type PollConfig struct {
	// Reply is the interval for PaceReply (default 250 ms): a program
	// answers at once, and each hop costs on average half an interval.
	Reply time.Duration
	// Human is the interval for PaceHuman (default 1 s, what rust-sdk and
	// js-sdk poll at, docs/protocol-divergences.md "Poll intervals").
	Human time.Duration
}

func (p PollConfig) interval(pace vocab.Pace) time.Duration {
	if pace == vocab.PaceHuman {
		if p.Human > 0 {
			return p.Human
		}
		return time.Second
	}
	if p.Reply > 0 {
		return p.Reply
	}
	return 250 * time.Millisecond
}

// RetryPolicy bounds the retries of one request on network errors, 5xx and
// 429 answers. Zero fields take the defaults.
type RetryPolicy struct {
	// Attempts is the number of tries including the first (default 4).
	Attempts int
	// BaseDelay is the first backoff (default 200 ms); it doubles per
	// attempt, jittered, up to MaxDelay (default 2 s).
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// MaxRateLimitWait caps one wait asked for by a 429 (default 5 s): the
	// sessions live one or two minutes, waiting longer is pointless.
	MaxRateLimitWait time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Attempts <= 0 {
		p.Attempts = 4
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 200 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 2 * time.Second
	}
	if p.MaxRateLimitWait <= 0 {
		p.MaxRateLimitWait = 5 * time.Second
	}
	return p
}

// backoff returns the wait before retry number n (1-based): exponential,
// capped, with "equal jitter" so that two devices behind the same failing
// proxy do not retry in lockstep.
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.BaseDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	half := d / 2
	return half + rand.N(half+1)
}

// transport performs one logical request with bounded retries.
type transport struct {
	hc    *http.Client
	retry RetryPolicy
}

func newTransport(hc *http.Client, retry RetryPolicy) transport {
	if hc == nil {
		hc = &http.Client{Timeout: defaultRequestTimeout}
	}
	return transport{hc: hc, retry: retry.withDefaults()}
}

// noRedirects returns a transport whose client hands 3xx answers back to
// us instead of following them, so create can re-POST a 307 itself.
func (t transport) noRedirects() transport {
	c := *t.hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	t.hc = &c
	return t
}

// exchange is one completed HTTP round trip.
type exchange struct {
	status int
	header http.Header
	body   []byte
	// url is the URL the final request went to (relative Locations and
	// create URLs resolve against it).
	url *url.URL
	// maybeApplied is true when an earlier attempt may have reached the
	// server (its response was lost or was a 5xx): a 409/412 on a retried
	// write may then be our own earlier write.
	maybeApplied bool
}

// do sends the request built by build until it gets an answer that is not
// a 5xx, 429 or network error, or the attempts run out. It returns other
// statuses to the caller to interpret. build is called once per attempt so
// every attempt sends an identical, fresh request.
func (t transport) do(ctx context.Context, op string, build func(context.Context) (*http.Request, error)) (*exchange, error) {
	var lastErr error
	maybeApplied := false
	for attempt := 1; ; attempt++ {
		req, err := build(ctx)
		if err != nil {
			return nil, err
		}
		ex, err := t.roundTrip(req)
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		var wait time.Duration
		switch {
		case errors.Is(err, ErrMalformedResponse):
			return nil, err
		case finalTransportError(err):
			return nil, fmt.Errorf("rendezvous: %s: %w", op, err)
		case err != nil:
			lastErr, maybeApplied = err, true
			wait = t.retry.backoff(attempt)
		case ex.status == http.StatusTooManyRequests:
			lastErr = newHTTPError(opSession, ex.status, ex.body)
			wait = rateLimitWait(ex, t.retry.MaxRateLimitWait, t.retry.backoff(attempt))
		case ex.status >= 500 && ex.status != http.StatusNotImplemented:
			// 501 is an answer, not a hiccup: the caller maps it (not enabled).
			lastErr, maybeApplied = newHTTPError(opSession, ex.status, ex.body), true
			wait = t.retry.backoff(attempt)
		default:
			ex.maybeApplied = maybeApplied
			return ex, nil
		}
		if attempt >= t.retry.Attempts {
			if ex != nil && ex.status == http.StatusTooManyRequests {
				return nil, lastErr
			}
			return nil, &NetworkError{Op: op, Attempts: attempt, Err: lastErr}
		}
		if err := httpx.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// finalTransportError reports whether a failed exchange says that this
// server cannot be talked to safely, which no retry or later poll
// changes: a certificate this device does not trust (x509, TLS
// verification), or a server that does not speak TLS on an https URL.
func finalTransportError(err error) bool {
	if err == nil {
		return false
	}
	var (
		verification *tls.CertificateVerificationError
		authority    x509.UnknownAuthorityError
		hostname     x509.HostnameError
		invalid      x509.CertificateInvalidError
		roots        x509.SystemRootsError
		record       tls.RecordHeaderError
	)
	return errors.As(err, &verification) || errors.As(err, &authority) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || errors.As(err, &roots) || errors.As(err, &record) ||
		errors.Is(err, http.ErrSchemeMismatch)
}

// roundTrip performs one attempt and reads the body through the size limit.
// A body that exceeds the limit is a malformed answer, not a network error.
func (t transport) roundTrip(req *http.Request) (*exchange, error) {
	resp, err := t.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := httpx.ReadBody(resp.Body, maxResponseBody)
	if errors.Is(err, httpx.ErrBodyTooLarge) {
		return nil, errOversizedBody
	}
	if err != nil {
		return nil, err
	}
	return &exchange{status: resp.StatusCode, header: resp.Header, body: body, url: resp.Request.URL}, nil
}

var errOversizedBody = malformed("response body larger than 64 KiB", nil)

// rateLimitWait is how long a 429 asks us to wait (httpx.RetryAfter: the
// Retry-After header, else the Matrix retry_after_ms field), else our
// backoff; never more than limit.
func rateLimitWait(ex *exchange, limit, fallback time.Duration) time.Duration {
	wait, ok := httpx.RetryAfter(ex.header, ex.body)
	if !ok {
		wait = fallback
	}
	return max(0, min(wait, limit))
}

// CheckURL parses raw and enforces the transport rule the login flow
// relies on: https everywhere, plain http only for loopback hosts
// (127.0.0.0/8, ::1, localhost), where there is nothing to intercept. The
// rule itself is protocol/internal/secureurl, which the OAuth client
// applies too.
func CheckURL(raw string) (*url.URL, error) { return secureurl.Check(raw) }

func strconvQuote(s string) string {
	if len(s) > 200 {
		s = s[:200]
	}
	return strconv.Quote(s)
}

// joinPath appends an absolute API path to a base URL, dropping the base's
// trailing slashes (a base URL "https://hs/" and "https://hs" are the same).
func joinPath(base, path string) string {
	return strings.TrimRight(base, "/") + path
}
