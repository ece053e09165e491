package securechannel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// channelSuiteGenerations are the generations the generation-independent
// channel suite runs for. Add a generation here once its handshake works
// over the in-memory rendezvous stand-in (memsession_test.go).
var channelSuiteGenerations = []vocab.Generation{vocab.MSC4388, vocab.MSC4108v2024}

func TestChannelSuite(t *testing.T) {
	for _, gen := range channelSuiteGenerations {
		t.Run(string(gen), func(t *testing.T) { runChannelSuite(t, gen) })
	}
}

// tamperWire changes one base64 character in the middle of a message to
// another alphabet character, so the decoded bytes differ in a non-trailing
// position whatever the generation's framing.
func tamperWire(wire string) string {
	if wire == "" {
		return "A"
	}
	i := len(wire) / 2
	c := byte('A')
	if wire[i] == 'A' {
		c = 'B'
	}
	return wire[:i] + string(c) + wire[i+1:]
}

// runChannelSuite checks what the login flow relies on, through the public
// API only (NewGenerator, Accept, Scan, Channel), for one generation.
func runChannelSuite(t *testing.T, gen vocab.Generation) {
	t.Run("handshake", func(t *testing.T) {
		g, err := NewGenerator(gen, "")
		if err != nil {
			t.Fatal(err)
		}
		if g.Generation() != gen || len(g.PublicKey()) != 32 {
			t.Fatalf("generator: %s, %d-byte key", g.Generation(), len(g.PublicKey()))
		}
		gp := g.PublicKey()
		p := runHandshake(t, newMemServer(),
			func(ctx context.Context, sess Transport) (*Channel, error) {
				return g.Accept(ctx, sess, testBinding)
			},
			func(ctx context.Context, sess Transport) (*Channel, error) {
				return Scan(ctx, gen, "", sess, gp, testBinding)
			})
		if p.gErr != nil || p.sErr != nil {
			t.Fatalf("G: %v; S: %v", p.gErr, p.sErr)
		}
		for _, c := range []*Channel{p.g, p.s} {
			if c.Generation() != gen {
				t.Fatalf("channel reports %s", c.Generation())
			}
		}
		if p.g.CheckCode() != p.s.CheckCode() || len(p.s.CheckCode().String()) != 2 {
			t.Fatalf("check codes G %q S %q", p.g.CheckCode(), p.s.CheckCode())
		}
		if !bytes.Equal(g.PublicKey(), gp) {
			t.Fatal("PublicKey changed after Accept")
		}
		// One QR, one channel: the generator's key is gone.
		if _, err := g.Accept(testCtx(t), newMemServer().create(""), testBinding); !errors.Is(err, ErrChannelClosed) {
			t.Fatalf("second Accept: %v", err)
		}
	})

	t.Run("bad QR key", func(t *testing.T) {
		if _, err := Scan(testCtx(t), gen, "", newMemServer().join(), make([]byte, 31), testBinding); !errors.Is(err, ErrHandshake) {
			t.Fatalf("31-byte key: %v", err)
		}
	})

	t.Run("confirm", func(t *testing.T) {
		p := mustPair(t, defaultPairOptions(gen))
		ctx := testCtx(t)
		if err := p.g.Send(ctx, []byte("too early")); !errors.Is(err, ErrNotConfirmed) {
			t.Fatalf("send before confirm: %v", err)
		}
		for _, typed := range []string{"", "123", "a1", "-1"} {
			if err := p.g.Confirm(typed); !errors.Is(err, ErrCheckCodeFormat) {
				t.Fatalf("Confirm(%q) = %v", typed, err)
			}
		}
		if err := p.g.Confirm(" " + p.s.CheckCode().String() + " "); err != nil {
			t.Fatalf("right code: %v", err)
		}
		if err := p.g.Send(ctx, []byte("now")); err != nil {
			t.Fatalf("send after confirm: %v", err)
		}
	})

	t.Run("wrong code closes", func(t *testing.T) {
		p := mustPair(t, defaultPairOptions(gen))
		wrong := (p.s.CheckCode().Value() + 1) % 100
		if err := p.g.Confirm(fmt.Sprint(wrong)); !errors.Is(err, ErrCheckCodeMismatch) {
			t.Fatalf("wrong code: %v", err)
		}
		// Never retry on the same channel: the right code is refused now.
		if err := p.g.Send(testCtx(t), []byte("x")); !errors.Is(err, ErrChannelClosed) {
			t.Fatalf("send after mismatch: %v", err)
		}
	})

	t.Run("messages both ways", func(t *testing.T) {
		p := mustPair(t, defaultPairOptions(gen))
		if err := p.g.Confirm(p.s.CheckCode().String()); err != nil {
			t.Fatal(err)
		}
		ctx := testCtx(t)
		big := strings.Repeat("x", 2500)
		for i := range 20 {
			for _, dir := range []struct {
				name     string
				from, to *Channel
			}{{"S→G", p.s, p.g}, {"G→S", p.g, p.s}} {
				msg := fmt.Sprintf(`{"n":%d,"dir":%q}`, i, dir.name)
				switch i {
				case 3:
					msg = ""
				case 4:
					msg = big
				}
				if err := dir.from.Send(ctx, []byte(msg)); err != nil {
					t.Fatalf("%s %d: send: %v", dir.name, i, err)
				}
				got, err := dir.to.Receive(ctx, vocab.PaceReply)
				if err != nil || string(got) != msg {
					t.Fatalf("%s %d: got %q, %v", dir.name, i, got, err)
				}
			}
		}
	})

	for _, c := range []struct {
		name   string
		write  int // index of the write the attacker changes (0, 1: handshake)
		victim string
		change func(payload string, history []string) string
	}{
		{"tampered S→G", 2, "G", func(p string, _ []string) string { return tamperWire(p) }},
		{"tampered G→S", 3, "S", func(p string, _ []string) string { return tamperWire(p) }},
		{"replayed S→G", 4, "G", func(_ string, h []string) string { return h[2] }},
		{"replayed G→S", 5, "S", func(_ string, h []string) string { return h[3] }},
		{"swapped direction", 4, "G", func(_ string, h []string) string { return h[3] }},
		{"emptied S→G", 2, "G", func(string, []string) string { return "" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := newMemServer()
			srv.tamper = func(_ *memSession, payload string, history []string) string {
				if len(history) == c.write {
					return c.change(payload, history)
				}
				return payload
			}
			p := newPair(t, defaultPairOptions(gen), srv)
			if p.gErr != nil || p.sErr != nil {
				t.Fatalf("G: %v; S: %v", p.gErr, p.sErr)
			}
			if err := p.g.Confirm(p.s.CheckCode().String()); err != nil {
				t.Fatal(err)
			}
			ctx := testCtx(t)
			var failed error
			var victim *Channel
			for i := 0; failed == nil && i < 3; i++ {
				for _, dir := range []struct {
					name     string
					from, to *Channel
				}{{"S", p.s, p.g}, {"G", p.g, p.s}} {
					if err := dir.from.Send(ctx, []byte(fmt.Sprintf("message %s%d", dir.name, i))); err != nil {
						t.Fatalf("send: %v", err)
					}
					if _, err := dir.to.Receive(ctx, vocab.PaceReply); err != nil {
						failed, victim = err, dir.to
						break
					}
				}
			}
			if !errors.Is(failed, ErrDecrypt) {
				t.Fatalf("the attack went unnoticed or failed oddly: %v", failed)
			}
			if (victim == p.g) != (c.victim == "G") {
				t.Fatalf("the wrong side noticed")
			}
			if _, err := victim.Receive(ctx, vocab.PaceReply); !errors.Is(err, ErrChannelClosed) {
				t.Fatalf("channel still open after a failed open: %v", err)
			}
		})
	}

	// The peer wrote out of turn, so our write meets a concurrent write
	// (MSC4388 409, 2024 412): our message spent a nonce the peer never saw,
	// so we write no more, but the peer's message must still open; it is
	// how we learn why the peer wrote (a failure, say).
	t.Run("a failed send leaves the peer's message readable", func(t *testing.T) {
		p := mustPair(t, defaultPairOptions(gen))
		if err := p.g.Confirm(p.s.CheckCode().String()); err != nil {
			t.Fatal(err)
		}
		ctx := testCtx(t)
		if err := p.s.Send(ctx, []byte("first")); err != nil {
			t.Fatal(err)
		}
		if got, err := p.g.Receive(ctx, vocab.PaceReply); err != nil || string(got) != "first" {
			t.Fatalf("first: %q, %v", got, err)
		}
		// G's turn, but S writes again first.
		if err := p.s.Send(ctx, []byte("out of turn")); err != nil {
			t.Fatal(err)
		}
		if err := p.g.Send(ctx, []byte("late")); !errors.Is(err, errMemConcurrentWrite) {
			t.Fatalf("G's send after S wrote: %v, want the transport's concurrent-write error", err)
		}
		got, err := p.g.Receive(ctx, vocab.PaceReply)
		if err != nil || string(got) != "out of turn" {
			t.Fatalf("the peer's message after a failed send: %q, %v", got, err)
		}
		if err := p.g.Send(ctx, []byte("again")); !errors.Is(err, ErrChannelClosed) {
			t.Fatalf("send after a failed send: %v, want ErrChannelClosed", err)
		}
	})

	t.Run("close", func(t *testing.T) {
		p := mustPair(t, defaultPairOptions(gen))
		_ = p.g.Confirm(p.s.CheckCode().String())
		ctx := testCtx(t)
		for _, c := range []*Channel{p.g, p.s} {
			c.Close()
			c.Close()
			if err := c.Send(ctx, []byte("x")); !errors.Is(err, ErrChannelClosed) {
				t.Fatalf("send after close: %v", err)
			}
			if _, err := c.Receive(ctx, vocab.PaceReply); !errors.Is(err, ErrChannelClosed) {
				t.Fatalf("receive after close: %v", err)
			}
		}
	})

	t.Run("receive honours the context", func(t *testing.T) {
		p := mustPair(t, defaultPairOptions(gen))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := p.g.Receive(ctx, vocab.PaceReply); !errors.Is(err, context.Canceled) {
			t.Fatalf("receive with a cancelled context: %v", err)
		}
		// A cancelled wait is not an attack: the channel still works.
		if err := p.s.Send(testCtx(t), []byte("later")); err != nil {
			t.Fatal(err)
		}
		if got, err := p.g.Receive(testCtx(t), vocab.PaceReply); err != nil || string(got) != "later" {
			t.Fatalf("after a cancelled wait: %q, %v", got, err)
		}
	})
}
