package httpx

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxRetryAfter caps any wait a server asks for. Callers apply their own,
// shorter limit on top; this one only keeps absurd values (and overflow)
// out of the arithmetic.
const MaxRetryAfter = 24 * time.Hour

// RetryAfter is how long a rate-limited (429) answer asks us to wait, in
// the order the Matrix spec gives since MSC4041: the Retry-After header
// (RFC 9110 delay-seconds, or an HTTP date measured against the same
// answer's Date header, so a skewed server clock does not matter), else
// the Matrix error body's retry_after_ms. ok is false when neither names a
// usable wait. The result lies in [0, MaxRetryAfter].
func RetryAfter(header http.Header, body []byte) (wait time.Duration, ok bool) {
	return retryAfter(header, decodeError(body).RetryAfterMS)
}

func retryAfter(header http.Header, retryAfterMS *float64) (time.Duration, bool) {
	if header != nil {
		if d, ok := parseRetryAfterHeader(header.Get("Retry-After"), header.Get("Date")); ok {
			return d, true
		}
	}
	if retryAfterMS == nil || *retryAfterMS < 0 || math.IsNaN(*retryAfterMS) {
		return 0, false
	}
	ms := min(*retryAfterMS, float64(MaxRetryAfter/time.Millisecond))
	return time.Duration(ms * float64(time.Millisecond)), true
}

// parseRetryAfterHeader reads an RFC 9110 Retry-After value; date is the
// Date header of the same answer (empty: our clock stands in).
func parseRetryAfterHeader(value, date string) (time.Duration, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(value, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(min(secs, int64(MaxRetryAfter/time.Second))) * time.Second, true
	}
	at, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	now := time.Now()
	if d, err := http.ParseTime(date); err == nil {
		now = d
	}
	return min(max(0, at.Sub(now)), MaxRetryAfter), true
}
