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
	// Errcode is the Matrix errcode of the answer (default M_UNKNOWN, or
	// M_LIMIT_EXCEEDED for a 429), e.g. M_UNRECOGNIZED for an endpoint
	// the server does not serve.
	Errcode string
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
	if f.Errcode != "" {
		body.ErrCode = f.Errcode
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(wholeSeconds(f.RetryAfter), 10))
		body.RetryAfterMS = f.RetryAfter.Milliseconds()
	}
	writeJSON(w, f.Status, body)
}

// WhoamiFault makes the next Count answers of GET /account/whoami name
// DeviceID instead of the access token's own device ("" leaves device_id
// out): a server that bound a new token to another device than the one the
// client asked for in its scope.
type WhoamiFault struct {
	DeviceID string
	Count    int
}

// InjectWhoamiFault queues f; whoami faults are consumed in the order
// injected.
func (s *Server) InjectWhoamiFault(f WhoamiFault) error {
	if f.Count <= 0 {
		return errors.New("devserver: a whoami fault needs a positive count")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.whoamiFaults = append(s.whoamiFaults, &f)
	return nil
}

// takeWhoamiFault consumes one whoami fault, nil when none is queued.
// Caller holds s.mu.
func (s *Server) takeWhoamiFault() *WhoamiFault {
	if len(s.whoamiFaults) == 0 {
		return nil
	}
	f := s.whoamiFaults[0]
	f.Count--
	if f.Count == 0 {
		s.whoamiFaults = s.whoamiFaults[1:]
	}
	taken := *f
	return &taken
}
