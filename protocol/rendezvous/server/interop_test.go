package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// These tests run package rendezvous's clients against this server over
// real HTTP: the server must be something the clients (built to
// Synapse's behaviour) complete a ping-pong with, for every generation
// and path.

var fastPoll = rendezvous.PollConfig{Reply: 5 * time.Millisecond, Human: 10 * time.Millisecond}

// pingPong plays the strict ping-pong rendezvous.Session documents: the
// creator waits for the joiner's first message, then they alternate.
func pingPong(t *testing.T, ctx context.Context, creator, joiner rendezvous.Session) {
	t.Helper()
	for round := range 3 {
		fromJoiner := fmt.Sprintf("joiner says %d", round)
		if err := joiner.Send(ctx, fromJoiner); err != nil {
			t.Fatalf("round %d: joiner Send: %v", round, err)
		}
		got, err := creator.Receive(ctx, vocab.PaceReply)
		if err != nil || got != fromJoiner {
			t.Fatalf("round %d: creator Receive = %q, %v", round, got, err)
		}
		fromCreator := fmt.Sprintf("creator says %d", round)
		if err := creator.Send(ctx, fromCreator); err != nil {
			t.Fatalf("round %d: creator Send: %v", round, err)
		}
		got, err = joiner.Receive(ctx, vocab.PaceReply)
		if err != nil || got != fromCreator {
			t.Fatalf("round %d: joiner Receive = %q, %v", round, got, err)
		}
	}
}

func TestInteropMSC4388Clients(t *testing.T) {
	for _, path := range []rendezvous.APIPath{rendezvous.PathUnstable, rendezvous.PathStable} {
		t.Run(string(path), func(t *testing.T) {
			env := newTestEnv(t, Config{Now: time.Now, TTL: 120 * time.Second})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			client, err := rendezvous.NewClient(rendezvous.ClientConfig{BaseURL: env.http.URL, HTTPClient: env.client, Path: path, Poll: fastPoll})
			if err != nil {
				t.Fatal(err)
			}
			available, err := client.Discover(ctx)
			if err != nil || !available {
				t.Fatalf("Discover = %v, %v", available, err)
			}
			creator, err := client.Create(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if left := time.Until(creator.ExpiresAt()); left < 110*time.Second || left > 121*time.Second {
				t.Fatalf("creator sees the session ending in %s, want about 120 s", left)
			}
			joiner, err := client.Join(ctx, env.http.URL, creator.ID())
			if err != nil {
				t.Fatal(err)
			}
			pingPong(t, ctx, creator, joiner)
			if err := creator.Cancel(ctx); err != nil {
				t.Fatalf("Cancel: %v", err)
			}
			if err := joiner.Send(ctx, "after cancel"); err == nil {
				t.Fatal("Send to a cancelled session succeeded")
			}
		})
	}
}

func TestInteropETagClients(t *testing.T) {
	env := newTestEnv(t, Config{Now: time.Now, ETagTTL: 60 * time.Second, ServeVersions: true})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offered, err := rendezvous.Discover2024(ctx, env.client, env.http.URL)
	if err != nil || !offered {
		t.Fatalf("rendezvous.Discover2024 = %v, %v", offered, err)
	}
	client, err := rendezvous.NewETagClient(rendezvous.ETagConfig{HomeserverURL: env.http.URL, HTTPClient: env.client, Poll: fastPoll})
	if err != nil {
		t.Fatal(err)
	}
	creator, err := client.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if left := time.Until(creator.ExpiresAt()); left < 50*time.Second || left > 61*time.Second {
		t.Fatalf("creator sees the session ending in %s, want about 60 s", left)
	}
	joiner, err := client.Join(ctx, creator.URL())
	if err != nil {
		t.Fatal(err)
	}
	pingPong(t, ctx, creator, joiner)
	if err := joiner.Cancel(ctx); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	if _, err := creator.Receive(ctx, vocab.PaceReply); err == nil {
		t.Fatal("Receive from a cancelled session succeeded")
	}
}

// TestInteropAuthenticated: in ModeAuthenticated the client's access
// token opens discovery and creation; without one the server's 401 reaches
// the caller as an error.
func TestInteropAuthenticated(t *testing.T) {
	env, _ := newAuthEnv(t, Config{Now: time.Now})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	anonymous, err := rendezvous.NewClient(rendezvous.ClientConfig{BaseURL: env.http.URL, HTTPClient: env.client, Poll: fastPoll})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anonymous.Create(ctx); err == nil {
		t.Fatal("Create without a token succeeded in authenticated mode")
	}
	signedIn, err := rendezvous.NewClient(rendezvous.ClientConfig{BaseURL: env.http.URL, HTTPClient: env.client, Poll: fastPoll, AccessToken: "good"})
	if err != nil {
		t.Fatal(err)
	}
	if available, err := signedIn.Discover(ctx); err != nil || !available {
		t.Fatalf("Discover with a token = %v, %v", available, err)
	}
	creator, err := signedIn.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	joiner, err := anonymous.Join(ctx, env.http.URL, creator.ID())
	if err != nil {
		t.Fatal(err)
	}
	pingPong(t, ctx, creator, joiner)
}
