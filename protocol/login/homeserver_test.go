package login_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/phone"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/msc4108"
)

// TestPhoneOnAnotherHomeserverStops: the user chose one homeserver, and
// the phone that scanned is signed in to another. The flow must not follow
// the phone silently (MSC4108 "1. Homeserver discovery" lets the phone
// name the server): it stops before asking any server for a device code,
// with a typed error naming both servers, and tells the phone with
// m.login.failure.
func TestPhoneOnAnotherHomeserverStops(t *testing.T) {
	for _, gen := range []string{"msc4388", "msc4108-2024"} {
		t.Run(gen, func(t *testing.T) {
			chosen, phones := devServer(t), devServer(t)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			qrs := make(chan login.QRReady, 4)
			var events []string
			flow := login.New(login.Config{Homeserver: chosen.URL(), Preference: gen, Poll: fast, FailureGrace: 500 * time.Millisecond}, func(ev login.Event) {
				events = append(events, ev.Name())
				if e, ok := ev.(login.QRReady); ok {
					qrs <- e
				}
			})
			done := make(chan error, 1)
			go func() { _, err := flow.Run(ctx); done <- err }()
			qr := <-qrs
			_, phoneErr := phone.Run(ctx, phone.Config{Homeserver: phones, Poll: fast, OnCheckCode: func(code string) {
				go func() {
					for !flow.SubmitCheckCode(code) {
						time.Sleep(10 * time.Millisecond)
					}
				}()
			}}, qr.Payload)
			err := <-done
			var mismatch *login.HomeserverMismatchError
			if !errors.As(err, &mismatch) {
				t.Fatalf("flow ended with %v (events %v), want a HomeserverMismatchError", err, events)
			}
			if mismatch.Chosen != chosen.URL() || mismatch.Phone != phones.URL() {
				t.Errorf("mismatch %+v, want chosen %s and phone %s", mismatch, chosen.URL(), phones.URL())
			}
			var pf *phone.PeerFailure
			if !errors.As(phoneErr, &pf) || pf.Reason != msc4108.ReasonUserCancelled {
				t.Errorf("the phone heard %v, want m.login.failure %s", phoneErr, msc4108.ReasonUserCancelled)
			}
			for _, name := range events {
				if name == "homeserver" || name == "user_code" {
					t.Errorf("event %s after a homeserver mismatch (events %v)", name, events)
				}
			}
		})
	}
}
