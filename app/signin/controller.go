// Package signin is the controller for one sign-in: it runs the protocol
// flow on its own goroutine, stores the result in the keyring, and reports
// progress as login events. The GUI and `qrlogin login --headless` both use
// it, so they behave the same.
package signin

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/qrlogin/qrlogin/app/accounts"
	"github.com/qrlogin/qrlogin/protocol/login"
)

// Store is the part of the account store a sign-in needs.
type Store interface {
	List() ([]accounts.Meta, error)
	Save(*accounts.Account) (*accounts.Replaced, error)
}

// Controller runs one sign-in.
type Controller struct {
	flow   *login.Flow
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	result *login.Result
	err    error
}

// Start begins a sign-in. emit is called from the controller's goroutine
// for every event, ending with exactly one Done or Failed; the GUI wraps it
// in fyne.Do.
func Start(parent context.Context, cfg login.Config, store Store, emit func(login.Event)) *Controller {
	ctx, cancel := context.WithCancel(parent)
	c := &Controller{cancel: cancel, done: make(chan struct{})}
	c.flow = login.New(cfg, emit)
	go func() {
		defer close(c.done)
		defer cancel()
		res, err := c.run(ctx, store, emit)
		c.mu.Lock()
		c.result, c.err = res, err
		c.mu.Unlock()
		if err != nil {
			emit(login.Failed{Err: err})
		}
	}()
	return c
}

func (c *Controller) run(ctx context.Context, store Store, emit func(login.Event)) (*login.Result, error) {
	// Fail before showing a QR code if the sign-in could not be kept.
	if _, err := store.List(); err != nil {
		return nil, err
	}
	res, err := c.flow.Run(ctx)
	if err != nil {
		return nil, err
	}
	if err := keep(ctx, store, res, emit); err != nil {
		return nil, err
	}
	return res, nil
}

// keep stores a finished sign-in and reports it Done. Signing in again as
// a stored user replaces the stored account (the store switches to the new
// one only once it is written whole); the earlier device's session is then
// ended at the server. If that fails the new sign-in stays and a warning
// says the old device is still on the account.
func keep(ctx context.Context, store Store, res *login.Result, emit func(login.Event)) error {
	replaced, err := store.Save(AccountFrom(res))
	res.Secrets.Zero() // the keyring has them now (or the save failed)
	if err != nil {
		// Nothing on this computer can use or sign out this session now:
		// end it on the server so the account is not left with a ghost device.
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = res.Revoke(bg, nil)
		return err
	}
	// The same device ID again would be the new sign-in's own device, which
	// ending the earlier session would remove.
	if replaced != nil && replaced.DeviceID != res.DeviceID {
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err := revokeSession(bg, replaced.Meta, replaced.AccessToken, replaced.RefreshToken)
		cancel()
		if err == nil && replaced.AccessToken == "" && replaced.RefreshToken == "" && replaced.RevocationEndpoint != "" {
			err = errors.New("the earlier sign-in's tokens could not be read")
		}
		if err != nil {
			emit(login.Warning{Code: WarningEarlierDeviceKept, Message: "This computer was already signed in as " + res.UserID +
				" (device " + replaced.DeviceID + "). That sign-in could not be ended at the server, so the old device is still on your account: " +
				"remove it from the account's list of devices in another Matrix app."})
		}
	}
	emit(login.Done{UserID: res.UserID, DeviceID: res.DeviceID, Verified: res.Verified})
	return nil
}

// SubmitCheckCode passes the digits the user typed to the flow.
func (c *Controller) SubmitCheckCode(code string) bool { return c.flow.SubmitCheckCode(code) }

// SwitchGeneration regenerates the QR code in the other protocol generation.
func (c *Controller) SwitchGeneration() { c.flow.SwitchGeneration() }

// Cancel stops the sign-in; the flow tells the phone and deletes the
// rendezvous before Wait returns.
func (c *Controller) Cancel() { c.cancel() }

// Wait blocks until the sign-in ended and returns its outcome.
func (c *Controller) Wait() (*login.Result, error) {
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.result, c.err
}

// WaitTimeout is Wait with a limit, for closing a window.
func (c *Controller) WaitTimeout(d time.Duration) error {
	select {
	case <-c.done:
		return nil
	case <-time.After(d):
		return errors.New("signin: the sign-in did not stop in time")
	}
}

// AccountFrom converts a finished sign-in into what the store keeps.
func AccountFrom(res *login.Result) *accounts.Account {
	a := &accounts.Account{
		Meta: accounts.Meta{
			UserID: res.UserID, DeviceID: res.DeviceID, Homeserver: res.Homeserver,
			ClientID: res.ClientID, AccessExpiresAt: res.Token.Expiry,
			Verified: res.Verified, CrossSigning: res.CrossSigning, Backup: res.Backup,
		},
		AccessToken:  accounts.Secret(res.Token.AccessToken),
		RefreshToken: accounts.Secret(res.Token.RefreshToken),
	}
	if md := res.Metadata; md != nil {
		a.Issuer, a.TokenEndpoint, a.RevocationEndpoint = md.Issuer, md.TokenEndpoint, md.RevocationEndpoint
	}
	if s := res.Secrets; s != nil {
		master, selfSigning, userSigning, backupKey, backupVersion := s.Export()
		a.MasterKey, a.SelfSigningKey, a.UserSigningKey = accounts.Secret(master), accounts.Secret(selfSigning), accounts.Secret(userSigning)
		a.BackupKey, a.BackupVersion = accounts.Secret(backupKey), backupVersion
	}
	if o := res.Olm; o != nil {
		pickle, key := o.Export()
		a.OlmPickle, a.OlmPickleKey = accounts.Secret(pickle), accounts.Secret(key)
	}
	return a
}

// WarningEarlierDeviceKept is the warning code when signing in again as a
// stored user could not end the earlier sign-in's session at the server.
const WarningEarlierDeviceKept = "earlier_device_kept"
