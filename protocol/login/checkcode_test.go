package login_test

import (
	"context"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/phone"
	"github.com/qrlogin/qrlogin/protocol/login"
)

// A typed check code that cannot be one (not one or two digits) is not
// taken: the flow keeps asking, and the right code typed next still signs
// in. Only a well-formed code that differs ends the attempt (MSC4388 step 7).
func TestMalformedCheckCodeIsNotTaken(t *testing.T) {
	srv := devServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	qrs := make(chan login.QRReady, 4)
	asked := make(chan struct{}, 4)
	flow := login.New(login.Config{Homeserver: srv.URL(), Poll: fast, FailureGrace: 100 * time.Millisecond}, func(ev login.Event) {
		switch e := ev.(type) {
		case login.QRReady:
			qrs <- e
		case login.CheckCodeNeeded:
			asked <- struct{}{}
		}
	})
	type outcome struct {
		res *login.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() { r, err := flow.Run(ctx); done <- outcome{r, err} }()
	qr := <-qrs
	codes := make(chan string, 1)
	go func() {
		_, _ = phone.Run(ctx, phone.Config{Homeserver: srv, Poll: fast, OnCheckCode: func(code string) { codes <- code }}, qr.Payload)
	}()
	code := <-codes
	select {
	case <-asked:
	case <-ctx.Done():
		t.Fatal("the flow never asked for the check code")
	}
	for _, typed := range []string{"", "7x", "123", "１２", code + code, "-1", "1.5"} {
		if flow.SubmitCheckCode(typed) {
			t.Fatalf("SubmitCheckCode(%q) was taken", typed)
		}
	}
	select {
	case o := <-done:
		t.Fatalf("a malformed check code ended the attempt: %v", o.err)
	case <-time.After(200 * time.Millisecond):
	}
	if !flow.SubmitCheckCode(" " + code + " ") {
		t.Fatal("the right code was not taken after malformed ones")
	}
	o := <-done
	if o.err != nil || o.res == nil {
		t.Fatalf("flow: %+v, %v", o.res, o.err)
	}
}
