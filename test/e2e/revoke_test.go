package e2e

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/app/accounts"
	"github.com/qrlogin/qrlogin/app/signin"
	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/internal/phone"
	loginflow "github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
)

// failingStore lists nothing and refuses to save, like a keyring that
// locks between the check at the start and the end of the sign-in.
type failingStore struct{}

var errSaveRefused = errors.New("test: the keyring refused the write")

func (failingStore) List() ([]accounts.Meta, error) { return nil, nil }
func (failingStore) Save(*accounts.Account) (*accounts.Replaced, error) {
	return nil, errSaveRefused
}

// TestUnsavedSignInIsRevoked: when the account cannot be stored, the
// controller revokes the new session, so the account keeps no device that
// nothing can use or sign out. In process (app/signin), no binary needed.
func TestUnsavedSignInIsRevoked(t *testing.T) {
	t.Parallel()
	srv := startServer(t, devserver.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	qrs, codes := make(chan []byte, 4), make(chan string, 1)
	var ctrl *signin.Controller
	ready := make(chan struct{})
	ctrl = signin.Start(ctx, loginflow.Config{
		Homeserver: srv.URL(), Preference: gen4388,
		Poll: rendezvous.PollConfig{Reply: 50 * time.Millisecond, Human: 100 * time.Millisecond},
	}, failingStore{}, func(ev loginflow.Event) {
		switch e := ev.(type) {
		case loginflow.QRReady:
			qrs <- e.Payload
		case loginflow.CheckCodeNeeded:
			go func() { <-ready; ctrl.SubmitCheckCode(<-codes) }()
		}
	})
	close(ready)
	res, err := phone.Run(ctx, phone.Config{Homeserver: srv, Poll: phonePoll, OnCheckCode: func(c string) { codes <- c }}, <-qrs)
	if err != nil {
		t.Fatalf("phone: %v", err)
	}
	if _, err := ctrl.Wait(); !errors.Is(err, errSaveRefused) {
		t.Fatalf("sign-in error %v, want the refused save", err)
	}
	if _, ok := srv.Device(res.NewDeviceID); ok {
		t.Fatalf("device %s is still on the server although the sign-in was not saved", res.NewDeviceID)
	}
}
