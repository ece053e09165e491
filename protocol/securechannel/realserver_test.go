package securechannel_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/rendezvous/server"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// The channel takes the project's rendezvous sessions as they are.
var _ securechannel.Transport = rendezvous.Session(nil)

// TestBothRolesThroughTheRealServer runs G and S against the project's own
// rendezvous server over HTTP on 127.0.0.1 (no in-memory stand-in), for both
// generations and, for MSC4388, both variants and both API paths.
func TestBothRolesThroughTheRealServer(t *testing.T) {
	cfg := server.DefaultConfig()
	cfg.Rate = server.RequestRate{} // unlimited: both clients poll fast
	srv := server.New(cfg)
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	poll := rendezvous.PollConfig{Reply: 20 * time.Millisecond, Human: 20 * time.Millisecond}

	cases := []struct {
		gen     vocab.Generation
		variant vocab.Variant
	}{
		{vocab.MSC4108v2024, vocab.VariantReference},
		{vocab.MSC4388, vocab.VariantReference},
		{vocab.MSC4388, vocab.VariantMSCText},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/%s", tc.gen, tc.variant), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			gSess, sSess, bind := realPair(ctx, t, ts.URL, tc.gen, tc.variant, poll)

			g, err := securechannel.NewGenerator(tc.gen, tc.variant)
			if err != nil {
				t.Fatal(err)
			}
			type result struct {
				ch  *securechannel.Channel
				err error
			}
			gDone := make(chan result, 1)
			go func() {
				ch, err := g.Accept(ctx, gSess, bind)
				gDone <- result{ch, err}
			}()
			sCh, err := securechannel.Scan(ctx, tc.gen, tc.variant, sSess(ctx), g.PublicKey(), bind)
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			gr := <-gDone
			if gr.err != nil {
				t.Fatalf("Accept: %v", gr.err)
			}
			gCh := gr.ch
			if err := gCh.Confirm(sCh.CheckCode().String()); err != nil {
				t.Fatalf("Confirm(%s): %v", sCh.CheckCode(), err)
			}
			// Ping-pong a few messages: S speaks first after the handshake.
			for i := range 3 {
				msg := fmt.Sprintf(`{"type":"m.test","n":%d}`, i)
				if err := sCh.Send(ctx, []byte(msg)); err != nil {
					t.Fatalf("S send %d: %v", i, err)
				}
				got, err := gCh.Receive(ctx, vocab.PaceReply)
				if err != nil || string(got) != msg {
					t.Fatalf("G receive %d: %q, %v", i, got, err)
				}
				reply := fmt.Sprintf(`{"type":"m.reply","n":%d}`, i)
				if err := gCh.Send(ctx, []byte(reply)); err != nil {
					t.Fatalf("G send %d: %v", i, err)
				}
				got, err = sCh.Receive(ctx, vocab.PaceReply)
				if err != nil || string(got) != reply {
					t.Fatalf("S receive %d: %q, %v", i, got, err)
				}
			}
			// After DELETE both sides see the session as expired: the
			// channel passes the transport's error through for errors.Is.
			if err := gSess.Cancel(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := sCh.Receive(ctx, vocab.PaceReply); !errors.Is(err, rendezvous.ErrExpired) {
				t.Fatalf("receive after DELETE: %v, want ErrExpired", err)
			}
			// A send that fails used up a nonce the peer never saw: the
			// channel ends rather than let a retry desynchronise it.
			if err := sCh.Send(ctx, []byte(`{"type":"m.test"}`)); err == nil {
				t.Fatal("send after DELETE succeeded")
			}
			if err := sCh.Send(ctx, []byte(`{"type":"m.test"}`)); !errors.Is(err, securechannel.ErrChannelClosed) {
				t.Fatalf("second send after a failed one: %v, want ErrChannelClosed", err)
			}
		})
	}
}

// realPair creates a session as G would and returns a function that joins
// it as S would after scanning (S joins lazily: its first GET must come
// after G's session exists, which it does here).
func realPair(ctx context.Context, t *testing.T, base string, gen vocab.Generation, v vocab.Variant, poll rendezvous.PollConfig) (rendezvous.Session, func(context.Context) rendezvous.Session, securechannel.Binding) {
	t.Helper()
	if gen == vocab.MSC4108v2024 {
		c, err := rendezvous.NewETagClient(rendezvous.ETagConfig{HomeserverURL: base, Poll: poll})
		if err != nil {
			t.Fatal(err)
		}
		g, err := c.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return g, func(ctx context.Context) rendezvous.Session {
			s, err := c.Join(ctx, g.URL())
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, securechannel.Binding{}
	}
	path := rendezvous.PathUnstable
	if v == vocab.VariantMSCText {
		path = rendezvous.PathStable
	}
	c, err := rendezvous.NewClient(rendezvous.ClientConfig{BaseURL: base, Path: path, Poll: poll})
	if err != nil {
		t.Fatal(err)
	}
	g, err := c.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return g, func(ctx context.Context) rendezvous.Session {
		s, err := c.Join(ctx, g.BaseURL(), g.ID())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, securechannel.Binding{BaseURL: g.BaseURL(), RendezvousID: g.ID()}
}
