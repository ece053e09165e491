package login_test

import (
	"context"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/internal/phone"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
)

// These run the flow in process against the dev homeserver on 127.0.0.1
// and the scripted phone; the real binary's headless mode is tested in
// test/e2e, the phone's misbehaviours in internal/phone.

var fast = rendezvous.PollConfig{Reply: 50 * time.Millisecond, Human: 100 * time.Millisecond}

// devServer is a dev homeserver on 127.0.0.1 with its defaults
// (devServerWith).
func devServer(t *testing.T) *devserver.Server { return devServerWith(t, devserver.Config{}) }

// TestSwitchGeneration: "my phone can't read this code" replaces the QR
// code with one of the other generation, and the phone can complete that.
func TestSwitchGeneration(t *testing.T) {
	srv := devServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	qrs := make(chan login.QRReady, 4)
	flow := login.New(login.Config{Homeserver: srv.URL(), Poll: fast, FailureGrace: 100 * time.Millisecond}, func(ev login.Event) {
		if e, ok := ev.(login.QRReady); ok {
			qrs <- e
		}
	})
	type outcome struct {
		res *login.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() { r, err := flow.Run(ctx); done <- outcome{r, err} }()

	first := <-qrs
	if first.Protocol != "msc4108-2024" || first.Alternative != "msc4388" {
		t.Fatalf("first QR: protocol %q alternative %q; auto should prefer the 2024 stack and offer MSC4388", first.Protocol, first.Alternative)
	}
	flow.SwitchGeneration()
	var second login.QRReady
	select {
	case second = <-qrs:
	case <-ctx.Done():
		t.Fatal("no fresh QR code after SwitchGeneration")
	}
	if second.Protocol != "msc4388" || second.Alternative != "msc4108-2024" {
		t.Fatalf("after switching: protocol %q alternative %q", second.Protocol, second.Alternative)
	}
	if flow.SubmitCheckCode("12") {
		t.Fatal("a check code was taken before the phone scanned")
	}
	_, err := phone.Run(ctx, phone.Config{Homeserver: srv, Poll: fast, OnCheckCode: func(code string) {
		go func() {
			for !flow.SubmitCheckCode(code) {
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}}, second.Payload)
	if err != nil {
		t.Fatalf("phone: %v", err)
	}
	o := <-done
	if o.err != nil || !o.res.Verified {
		t.Fatalf("flow: %+v, %v", o.res, o.err)
	}
}

// TestUnreachableServer: the flow fails fast and plainly when nothing
// listens (no QR code is shown).
func TestUnreachableServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	shown := false
	flow := login.New(login.Config{Homeserver: "http://127.0.0.1:1"}, func(ev login.Event) {
		if _, ok := ev.(login.QRReady); ok {
			shown = true
		}
	})
	if _, err := flow.Run(ctx); err == nil || shown {
		t.Fatalf("err %v, QR shown %v", err, shown)
	}
}
