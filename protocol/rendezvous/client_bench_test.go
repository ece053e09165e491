package rendezvous

import (
	"context"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// benchHops measures rendezvous hops between two paired sessions: from the
// moment one device starts its Send until the other device's Receive
// (PaceReply, already polling) returns the payload. Payloads differ per hop:
// 2024 ETags are content-addressed, so a repeated payload is no news. The Send starts at a
// random moment of the receiver's poll cycle, as it does in a real login.
// It reports the median and 90th percentile; the target is a median under
// 300 ms with PaceReply. Run with e.g. -benchtime=40x for a stable median.
func benchHops(b *testing.B, a, c Session, interval time.Duration) {
	ctx := context.Background()
	sessions := [2]Session{a, c}
	hops := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		sender, receiver := sessions[i%2], sessions[(i+1)%2]
		type result struct {
			at  time.Time
			err error
		}
		done := make(chan result, 1)
		go func() {
			_, err := receiver.Receive(ctx, vocab.PaceReply)
			done <- result{time.Now(), err}
		}()
		b.StopTimer()
		time.Sleep(rand.N(interval))
		b.StartTimer()
		start := time.Now()
		if err := sender.Send(ctx, "hop "+strconv.Itoa(i)); err != nil {
			b.Fatalf("Send: %v", err)
		}
		r := <-done
		if r.err != nil {
			b.Fatalf("Receive: %v", r.err)
		}
		hops = append(hops, r.at.Sub(start))
	}
	b.StopTimer()
	slices.Sort(hops)
	b.ReportMetric(float64(hops[len(hops)/2])/float64(time.Millisecond), "ms/hop-median")
	b.ReportMetric(float64(hops[len(hops)*9/10])/float64(time.Millisecond), "ms/hop-p90")
}

// replyPoll is the production PaceReply interval.
var replyPoll = PollConfig{}

func BenchmarkHopMSC4388Fake(b *testing.B) {
	f := newFake4388(b, PathUnstable)
	f.ttl = time.Hour
	c := f.client(b, func(c *ClientConfig) { c.Poll = replyPoll })
	ctx := context.Background()
	g, err := c.Create(ctx)
	if err != nil {
		b.Fatal(err)
	}
	s, err := c.Join(ctx, g.BaseURL(), g.ID())
	if err != nil {
		b.Fatal(err)
	}
	benchHops(b, s, g, replyPoll.interval(vocab.PaceReply))
}

func BenchmarkHopETagFake(b *testing.B) {
	f := newFakeETag(b)
	f.ttl = time.Hour
	c := f.client(b, func(c *ETagConfig) { c.Poll = replyPoll })
	ctx := context.Background()
	g, err := c.Create(ctx)
	if err != nil {
		b.Fatal(err)
	}
	s, err := c.Join(ctx, g.URL())
	if err != nil {
		b.Fatal(err)
	}
	benchHops(b, s, g, replyPoll.interval(vocab.PaceReply))
}
