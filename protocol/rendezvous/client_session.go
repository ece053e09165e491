package rendezvous

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/qrlogin/qrlogin/protocol/internal/httpx"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// sessionState is what both clients track about one session: the version
// marker (MSC4388 sequence_token or 2024 ETag) we hold for the next write,
// the one this device last saw, the last payload, and the expiry. It
// carries the poll loop and the write/cancel outcomes both Session
// implementations share. Token, ExpiresAt and Payload may be read from any
// goroutine.
type sessionState struct {
	mu        sync.Mutex
	token     string    // the marker we hold for the next write, echoed verbatim
	seen      string    // marker of the last payload this device read or wrote
	payload   string    // last payload read or written
	expiresAt time.Time // monotonic: time.Now() at receipt plus the server's relative expiry
}

// Token is the session's version marker this device holds: the MSC4388
// sequence_token (its AAD binds it) or the 2024 ETag.
func (s *sessionState) Token() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token
}

// ExpiresAt is when the server ends the session, on this machine's clock.
func (s *sessionState) ExpiresAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expiresAt
}

// Payload is the last payload this device read or wrote.
func (s *sessionState) Payload() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.payload
}

// adopt records token as both held and seen, with the payload it names.
func (s *sessionState) adopt(token, payload string) {
	s.mu.Lock()
	s.token, s.seen, s.payload = token, token, payload
	s.mu.Unlock()
}

// observe records a read: the marker is held from now on (the next write
// must name it); the payload is news only when usable and under a marker
// this device has not seen, which is what Receive waits for.
func (s *sessionState) observe(token, data string, usable bool) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
	if token == s.seen || !usable {
		return "", false
	}
	s.seen, s.payload = token, data
	return data, true
}

// expireIn sets the expiry to ttl from now on our monotonic clock, so the
// server's absolute clock never matters (MSC4388 "Expiry"). With
// onlyIfUnknown it sets a fallback and keeps an expiry already known.
func (s *sessionState) expireIn(ttl time.Duration, onlyIfUnknown bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !onlyIfUnknown || s.expiresAt.IsZero() {
		s.expiresAt = time.Now().Add(ttl)
	}
}

// withExpiry bounds ctx by the session's expiry; when that deadline hits,
// context.Cause reports ErrExpired.
func (s *sessionState) withExpiry(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithDeadlineCause(ctx, s.ExpiresAt(), ErrExpired)
}

// poll calls readOnce until it reports a fresh payload (or fails), pausing
// the Pace's interval between reads. The first read goes out at once. Each
// read and each pause is bounded by the session's expiry, re-derived every
// time because every read refreshes it. Retries of a single read (5xx,
// 429, network errors) happen inside the transport.
func (s *sessionState) poll(ctx context.Context, cfg PollConfig, pace vocab.Pace,
	readOnce func(context.Context) (data string, fresh bool, err error)) (string, error) {
	interval := cfg.interval(pace)
	pause := interval
	// blip is the last transient failure, kept so that a wait that ends
	// (expiry, the caller giving up) during an outage says why.
	var blip error
	withBlip := func(err error) error {
		if blip == nil {
			return err
		}
		return errors.Join(err, blip)
	}
	for {
		rctx, cancel := s.withExpiry(ctx)
		data, fresh, err := readOnce(rctx)
		cancel()
		switch {
		case err == nil && fresh:
			return data, nil
		case err == nil:
			pause, blip = interval, nil
		case transientReadError(err) && ctx.Err() == nil:
			// A blip (no network, 5xx, 429) outlasted the transport's own
			// retries. The session lives on at the server until it
			// expires, and so does the peer's next message: keep reading,
			// backing off, until the expiry ends the wait.
			pause, blip = min(max(2*pause, interval), maxBlipPause), err
		default:
			return data, withBlip(err)
		}
		wctx, cancel := s.withExpiry(ctx)
		err = httpx.Sleep(wctx, pause)
		cancel()
		if err != nil {
			return "", withBlip(err)
		}
	}
}

// maxBlipPause caps the backoff between reads while the rendezvous server
// cannot be reached: short against the one to five minutes a session lives.
const maxBlipPause = 4 * time.Second

// transientReadError reports whether a failed read says nothing about the
// session itself: the network, a 5xx or a 429. Expiry (404), a refusal, a
// malformed answer and a server that cannot be talked to safely (an
// untrusted certificate, no TLS on https: finalTransportError) are final.
func transientReadError(err error) bool {
	return (errors.Is(err, ErrNetwork) || errors.Is(err, ErrRateLimited)) && !finalTransportError(err)
}

// writeOps is what one protocol contributes to the shared Send.
type writeOps struct {
	// put sends the write (retries inside the transport).
	put func(context.Context) (*exchange, error)
	// accepted reads a success answer's new marker; ok is false when the
	// answer is not a success.
	accepted func(*exchange) (token string, ok bool, err error)
	// conflict is the status of a write against a stale marker (409 for
	// MSC4388, 412 for the 2024 API).
	conflict int
	// reread fetches the session after a conflict; token is empty when the
	// answer names no usable marker.
	reread func(context.Context) (token, data string, err error)
	// fail maps any other answer to an error.
	fail func(*exchange) error
}

// write is the Send both clients share. When an attempt's response was
// lost the transport re-sends the identical write; if that meets a
// conflict, a read showing our own payload under a marker means the first
// attempt landed, and that marker is adopted. If the check itself fails,
// its reason (expired, unreachable) is kept beside the conflict.
func (s *sessionState) write(ctx context.Context, payload string, op writeOps) error {
	ctx, cancel := s.withExpiry(ctx)
	defer cancel()
	ex, err := op.put(ctx)
	if err != nil {
		return err
	}
	if token, ok, err := op.accepted(ex); ok || err != nil {
		if err != nil {
			return err
		}
		s.adopt(token, payload)
		return nil
	}
	if ex.status == op.conflict && ex.maybeApplied {
		token, data, gerr := op.reread(ctx)
		if gerr != nil {
			return errors.Join(op.fail(ex), gerr)
		}
		if token != "" && data == payload {
			s.adopt(token, payload)
			return nil
		}
	}
	return op.fail(ex)
}

// cancelled is the Cancel outcome both clients share: 200/204 is done; a
// "gone" answer after an earlier attempt may have landed means our lost
// DELETE did it.
func cancelled(ex *exchange, err error, fail func(*exchange) error) error {
	if err != nil {
		return err
	}
	if ex.status == http.StatusOK || ex.status == http.StatusNoContent {
		return nil
	}
	err = fail(ex)
	if ex.maybeApplied && errors.Is(err, ErrExpired) {
		return nil
	}
	return err
}
