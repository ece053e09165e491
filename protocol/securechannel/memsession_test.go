package securechannel

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// memServer is an in-memory stand-in for an MSC4388 rendezvous server (the
// real one, and its client, are another engineer's; the lead adds tests over
// real HTTP later). It keeps what matters to the channel: one payload, a
// sequence token that changes on every write, compare-and-swap writes, and
// readers that only see a payload once its token differs from theirs
// (MSC4388 "The send mechanism"). It works for the 2024 ETag flow too, since
// the channel only sees the Transport interface.
//
// tamper, if set, plays the attacker who controls the server: it sees every
// write (and the history so far) and decides what gets stored instead.
type memServer struct {
	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every write
	payload   string
	token     string
	tokens    []string // tokens to hand out first, in order
	issued    int
	cancelled bool
	history   []string // what the writers wrote (before tampering)
	tamper    func(writer *memSession, payload string, history []string) string
}

var errMemConcurrentWrite = errors.New("memServer: concurrent write")
var errMemCancelled = errors.New("memServer: session cancelled")

func newMemServer(tokens ...string) *memServer {
	return &memServer{changed: make(chan struct{}), tokens: tokens}
}

func (s *memServer) nextToken() string {
	s.issued++
	if s.issued <= len(s.tokens) {
		return s.tokens[s.issued-1]
	}
	return fmt.Sprintf("tok-%d", s.issued)
}

// create is G's POST with an initial payload.
func (s *memServer) create(payload string) *memSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.payload = payload
	s.token = s.nextToken()
	return &memSession{srv: s, name: "G", token: s.token}
}

// join is S's first GET: it has seen the current payload and token.
func (s *memServer) join() *memSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &memSession{srv: s, name: "S", token: s.token}
}

// writes returns what the devices wrote, in order.
func (s *memServer) writes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.history...)
}

type memSession struct {
	srv   *memServer
	name  string
	token string
}

var _ Transport = (*memSession)(nil)

func (m *memSession) Send(ctx context.Context, payload string) error {
	s := m.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancelled {
		return errMemCancelled
	}
	if m.token != s.token {
		return errMemConcurrentWrite
	}
	stored := payload
	if s.tamper != nil {
		stored = s.tamper(m, payload, append([]string(nil), s.history...))
	}
	s.history = append(s.history, payload)
	s.payload = stored
	s.token = s.nextToken()
	m.token = s.token
	close(s.changed)
	s.changed = make(chan struct{})
	return nil
}

func (m *memSession) Receive(ctx context.Context, _ vocab.Pace) (string, error) {
	s := m.srv
	for {
		s.mu.Lock()
		if s.cancelled {
			s.mu.Unlock()
			return "", errMemCancelled
		}
		if s.token != m.token {
			m.token = s.token
			p := s.payload
			s.mu.Unlock()
			return p, nil
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-ch:
		}
	}
}

func (m *memSession) Cancel(context.Context) error {
	s := m.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.cancelled {
		s.cancelled = true
		close(s.changed)
		s.changed = make(chan struct{})
	}
	return nil
}

func (m *memSession) Token() string {
	m.srv.mu.Lock()
	defer m.srv.mu.Unlock()
	return m.token
}

// tokenOverride wraps a session and reports a different Token(), to model a
// device binding the wrong sequence token into its AAD.
type tokenOverride struct {
	Transport
	token func(real string) string
}

func (t tokenOverride) Token() string { return t.token(t.Transport.Token()) }
