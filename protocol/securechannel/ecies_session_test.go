package securechannel

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/qrlogin/qrlogin/protocol/rendezvous"
)

// In-memory rendezvous sessions for the ECIES tests: a pipe between two
// ends (the real ping-pong, for handshakes between our own G and S) and a
// script (fixed incoming payloads, recorded outgoing ones, for vectors).

var errPipeCancelled = errors.New("test rendezvous session cancelled")

// eciesPipeBox is the server-side state: the last payload and who wrote it.
type eciesPipeBox struct {
	mu        sync.Mutex
	payload   string
	version   int
	writer    int
	cancelled bool
	changed   chan struct{} // closed and replaced on every change
	expires   time.Time
}

// eciesPipeEnd is one device's view of the box.
type eciesPipeEnd struct {
	box  *eciesPipeBox
	me   int
	seen int
}

var _ rendezvous.Session = (*eciesPipeEnd)(nil)

// newECIESPipe returns the two ends of a fresh session (G's first, S's second).
func newECIESPipe() (*eciesPipeEnd, *eciesPipeEnd) {
	box := &eciesPipeBox{changed: make(chan struct{}), expires: time.Now().Add(time.Minute)}
	return &eciesPipeEnd{box: box, me: 1}, &eciesPipeEnd{box: box, me: 2}
}

func (e *eciesPipeEnd) Send(ctx context.Context, payload string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b := e.box
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cancelled {
		return errPipeCancelled
	}
	b.version++
	b.payload = payload
	b.writer = e.me
	e.seen = b.version
	close(b.changed)
	b.changed = make(chan struct{})
	return nil
}

func (e *eciesPipeEnd) Receive(ctx context.Context, _ rendezvous.Pace) (string, error) {
	b := e.box
	for {
		b.mu.Lock()
		if b.cancelled {
			b.mu.Unlock()
			return "", errPipeCancelled
		}
		if b.version != e.seen && b.writer != e.me {
			e.seen = b.version
			p := b.payload
			b.mu.Unlock()
			return p, nil
		}
		changed := b.changed
		b.mu.Unlock()
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-changed:
		}
	}
}

func (e *eciesPipeEnd) Cancel(context.Context) error {
	b := e.box
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.cancelled {
		b.cancelled = true
		close(b.changed)
		b.changed = make(chan struct{})
	}
	return nil
}

func (e *eciesPipeEnd) Token() string        { return strconv.Itoa(e.seen) }
func (e *eciesPipeEnd) ExpiresAt() time.Time { return e.box.expires }

// eciesScript is a session whose peer is a list of canned payloads.
type eciesScript struct {
	incoming []string
	sent     []string
}

var _ rendezvous.Session = (*eciesScript)(nil)

var errScriptExhausted = errors.New("test script has no more incoming payloads")

func (s *eciesScript) Send(_ context.Context, payload string) error {
	s.sent = append(s.sent, payload)
	return nil
}

func (s *eciesScript) Receive(ctx context.Context, _ rendezvous.Pace) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if len(s.incoming) == 0 {
		return "", errScriptExhausted
	}
	p := s.incoming[0]
	s.incoming = s.incoming[1:]
	return p, nil
}

func (s *eciesScript) Cancel(context.Context) error { return nil }
func (s *eciesScript) Token() string                { return strconv.Itoa(len(s.sent)) }
func (s *eciesScript) ExpiresAt() time.Time         { return time.Time{} }
