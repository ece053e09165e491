package vodozemac_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// bridge is an in-memory rendezvous.Session between our Go channel and the
// test, which relays each payload to and from vodozemac.
type bridge struct {
	toPeer   chan string // what the Go side sent
	fromPeer chan string // what the Go side will receive
	token    int
}

var _ rendezvous.Session = (*bridge)(nil)

func newBridge() *bridge {
	return &bridge{toPeer: make(chan string, 1), fromPeer: make(chan string, 1)}
}

func (b *bridge) Send(ctx context.Context, payload string) error {
	select {
	case b.toPeer <- payload:
		b.token++
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *bridge) Receive(ctx context.Context, _ vocab.Pace) (string, error) {
	select {
	case p := <-b.fromPeer:
		b.token++
		return p, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (b *bridge) Cancel(context.Context) error { return nil }
func (b *bridge) Token() string                { return strconv.Itoa(b.token) }
func (b *bridge) ExpiresAt() time.Time         { return time.Time{} }

// sent returns the next payload the Go side sent.
func (b *bridge) sent(t *testing.T) string {
	t.Helper()
	select {
	case p := <-b.toPeer:
		return p
	case <-time.After(10 * time.Second):
		t.Fatal("the Go side sent nothing")
		return ""
	}
}

// deliver hands a payload from vodozemac to the Go side.
func (b *bridge) deliver(t *testing.T, payload string) {
	t.Helper()
	select {
	case b.fromPeer <- payload:
	case <-time.After(10 * time.Second):
		t.Fatal("the Go side did not take the payload")
	}
}
