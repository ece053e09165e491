package rendezvous

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// TestSessionStateExpiry: a read's expiry replaces the old one (servers
// extend sessions), a fallback only fills in an unknown expiry.
func TestSessionStateExpiry(t *testing.T) {
	var s sessionState
	s.expireIn(time.Minute, true)
	first := s.ExpiresAt()
	if d := time.Until(first); d <= 0 || d > time.Minute {
		t.Fatalf("fallback on an unknown expiry: %v from now", d)
	}
	s.expireIn(time.Hour, true)
	if !s.ExpiresAt().Equal(first) {
		t.Fatal("a fallback replaced a known expiry")
	}
	s.expireIn(time.Hour, false)
	if d := time.Until(s.ExpiresAt()); d <= time.Minute {
		t.Fatalf("a stated expiry did not replace the old one: %v from now", d)
	}
	s.expireIn(time.Second, false)
	if d := time.Until(s.ExpiresAt()); d > time.Second {
		t.Fatalf("a shorter stated expiry did not replace the old one: %v from now", d)
	}
}

// TestSessionStateObserve: every read's marker is held for the next
// write; only a usable payload under an unseen marker is news.
func TestSessionStateObserve(t *testing.T) {
	var s sessionState
	s.adopt("t1", "mine")
	if _, fresh := s.observe("t1", "mine", true); fresh || s.Token() != "t1" {
		t.Fatal("our own write came back as news")
	}
	if _, fresh := s.observe("t2", "", false); fresh || s.Token() != "t2" || s.Payload() != "mine" {
		t.Fatalf("unusable read: fresh=%v token=%q payload=%q", fresh, s.Token(), s.Payload())
	}
	if data, fresh := s.observe("t3", "theirs", true); !fresh || data != "theirs" || s.Token() != "t3" || s.Payload() != "theirs" {
		t.Fatalf("peer's write: %q fresh=%v token=%q", data, fresh, s.Token())
	}
	if _, fresh := s.observe("t3", "theirs", true); fresh {
		t.Fatal("the same write counted twice")
	}
}

// TestSessionStatePoll: reads pace at the interval, each read sees the
// expiry as a deadline, and a read that extends the expiry extends the
// poll; when it runs out the poll ends with ErrExpired.
func TestSessionStatePoll(t *testing.T) {
	var s sessionState
	s.expireIn(80*time.Millisecond, false)
	reads := 0
	start := time.Now()
	_, err := s.poll(context.Background(), PollConfig{Reply: 10 * time.Millisecond}, vocab.PaceReply,
		func(ctx context.Context) (string, bool, error) {
			if _, ok := ctx.Deadline(); !ok {
				t.Fatal("read without the session's deadline")
			}
			reads++
			if reads < 5 {
				s.expireIn(80*time.Millisecond, false) // the server extends the session
			}
			return "", false, nil
		})
	if !errors.Is(err, ErrExpired) {
		t.Fatalf("poll: %v, want ErrExpired", err)
	}
	if reads < 5 {
		t.Fatalf("%d reads: the extended expiry was not used", reads)
	}
	if el := time.Since(start); el < 100*time.Millisecond || el > 5*time.Second {
		t.Fatalf("polled for %v", el)
	}

	s.expireIn(time.Minute, false)
	got, err := s.poll(context.Background(), PollConfig{}, vocab.PaceHuman,
		func(context.Context) (string, bool, error) { return "news", true, nil })
	if err != nil || got != "news" {
		t.Fatalf("fresh read: %q, %v", got, err)
	}
	boom := errors.New("boom")
	if _, err := s.poll(context.Background(), PollConfig{}, vocab.PaceHuman,
		func(context.Context) (string, bool, error) { return "", false, boom }); !errors.Is(err, boom) {
		t.Fatalf("failed read: %v", err)
	}
}
