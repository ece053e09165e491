// Package httpx holds what the protocol clients (rendezvous, matrix, oauth)
// share about reading HTTP answers: bounded body reads, one Retry-After
// policy, one context-aware sleep and the Matrix standard error response.
// It lives under protocol/internal so that only protocol packages use it.
package httpx

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrBodyTooLarge reports a body longer than the limit given to ReadBody.
// Callers turn it into their own error (each says what the limit protects).
var ErrBodyTooLarge = errors.New("httpx: response body exceeds the limit")

// ReadBody reads all of r, but never more than limit+1 bytes: a hostile or
// broken server must not make us buffer without bound. A body longer than
// limit gives ErrBodyTooLarge; a read failure is returned as it is.
func ReadBody(r io.Reader, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, ErrBodyTooLarge
	}
	return body, nil
}

// Sleep waits for d or until ctx ends. It returns nil after a full wait and
// context.Cause(ctx) when ctx ends first (or has ended already), so a
// deadline set with context.WithDeadlineCause reports its own error. A d of
// zero or less does not wait.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return context.Cause(ctx)
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-timer.C:
		return nil
	}
}
