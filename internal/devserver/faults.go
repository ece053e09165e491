package devserver

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault makes the next Count requests whose path starts with PathPrefix
// fail with Status, before any routing (so it hits every endpoint, the
// rendezvous ones included). A 429 carries Retry-After and Matrix's
// retry_after_ms when RetryAfter is set.
type Fault struct {
	PathPrefix string
	Count      int
	Status     int // 400–599, e.g. 500 or 429
	RetryAfter time.Duration
}

// InjectFault queues f; faults are consumed in the order injected.
func (s *Server) InjectFault(f Fault) error {
	if f.Count <= 0 || f.Status < 400 || f.Status > 599 || !strings.HasPrefix(f.PathPrefix, "/") || f.RetryAfter < 0 {
		return errors.New("devserver: a fault needs a path prefix starting with /, a positive count and a 4xx/5xx status")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
	return nil
}

// takeFault consumes one matching fault. Caller holds s.mu.
func (s *Server) takeFault(path string) *Fault {
	for i, f := range s.faults {
		if !strings.HasPrefix(path, f.PathPrefix) {
			continue
		}
		f.Count--
		if f.Count == 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		taken := *f
		return &taken
	}
	return nil
}

func (f *Fault) write(w http.ResponseWriter) {
	body := matrixError{ErrCode: "M_UNKNOWN", Error: "injected failure"}
	if f.Status == http.StatusTooManyRequests {
		body.ErrCode = "M_LIMIT_EXCEEDED"
		body.Error = "Too Many Requests (injected)"
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(wholeSeconds(f.RetryAfter), 10))
		body.RetryAfterMS = f.RetryAfter.Milliseconds()
	}
	writeJSON(w, f.Status, body)
}
