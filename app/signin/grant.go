package signin

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/qrlogin/qrlogin/app/accounts"
	"github.com/qrlogin/qrlogin/app/config"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/matrix"
	"github.com/qrlogin/qrlogin/protocol/oauth"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// GrantStore is the part of the account store signing in another device
// needs: the account with the keys it may send (a damaged key item does not
// fail LoadKeys), and its access token, refreshed under the store's
// cross-process lock.
type GrantStore interface {
	LoadKeys(userID string) (*accounts.Account, *accounts.CorruptError, error)
	AccessToken(ctx context.Context, userID string, refresh accounts.Refresher) (accounts.Secret, error)
}

// GrantError is how a grant (this computer signing in another device)
// ends when it fails: the front ends and the error table (app/explain)
// word it for this direction, where "the other device" is the new one.
type GrantError struct {
	UserID string
	Err    error
}

func (e *GrantError) Error() string {
	if e.UserID == "" { // no account chosen yet
		return "signing in another device: " + e.Err.Error()
	}
	return "signing in another device with " + e.UserID + ": " + e.Err.Error()
}

func (e *GrantError) Unwrap() error { return e.Err }

// GrantDone ends a grant that worked, as login.Done ends a sign-in, and
// has the same event name ("done"): the new device DeviceID is signed in
// to UserID, and SecretsSent says whether it received the account's keys.
// When it did not, KeysNotSent is the code of the warning that said why:
// login.WarningSecretsNotShared (this computer's sign-in is not verified)
// or WarningStoredKeysDamaged.
type GrantDone struct {
	UserID      string
	DeviceID    string
	SecretsSent bool
	KeysNotSent string
}

func (GrantDone) Name() string { return "done" }

// ErrSessionEnded marks a grant that failed because the account's server
// no longer accepts this computer's session of the account: a request made
// with its access token was refused (401), or its refresh token was
// (invalid_grant). The session was most likely signed out from another
// device; nothing works for the account here until it signs in again.
var ErrSessionEnded = errors.New("signin: the server no longer accepts this computer's session of the account")

// sessionEnded tells whether err, from a grant configured as cfg, is the
// server refusing the account's session. A grant makes three kinds of
// request with the account's credentials: rendezvous discovery and create
// on the account's own server (a separate rendezvous server never gets the
// token, so its wish for a signed-in device says nothing about the
// session), the device checks on the homeserver, and the refresh.
func sessionEnded(err error, cfg login.GrantConfig) bool {
	var (
		oauthErr  *oauth.Error
		matrixErr *matrix.Error
	)
	switch {
	case errors.Is(err, rendezvous.ErrNeedsAccount):
		return cfg.RendezvousServer == ""
	case errors.As(err, &oauthErr):
		return oauthErr.Code == "invalid_grant"
	case errors.As(err, &matrixErr):
		return matrixErr.Status == http.StatusUnauthorized
	}
	return false
}

// WarningStoredKeysDamaged is the warning code when the account is
// verified here but its stored keys cannot be read, so none are sent.
const WarningStoredKeysDamaged = "stored_keys_damaged"

// grantRunner is what the controller uses of *login.Grant.
type grantRunner interface {
	SubmitCheckCode(code string) bool
	SwitchGeneration()
	Run(ctx context.Context) (*login.GrantResult, error)
}

// newGrant makes the flow. Only the controller's tests replace it, to see
// what the flow is given and to feed it events.
var newGrant = func(cfg login.GrantConfig, emit func(login.Event)) grantRunner {
	return login.NewGrant(cfg, emit)
}

// GrantController runs one grant: this computer, signed in as an account,
// shows a QR code that a new device scans, and signs that device in
// (MSC4108 "existing device").
type GrantController struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	grant  grantRunner // nil until the account is read
	result *login.GrantResult
	err    error
}

// GrantFlowConfig turns settings into a grant's configuration; the
// controller adds the account (StartGrant) and the front end OpenURI.
func GrantFlowConfig(s config.Settings) login.GrantConfig {
	return login.GrantConfig{
		RendezvousServer: s.RendezvousServer,
		Preference:       s.Protocol,
		Variant:          vocab.Variant(s.MSC4388Variant),
		Poll:             pollConfig(s),
	}
}

// StartGrant signs another device in with the stored account userID. It
// reads the account on its own goroutine (the keyring may ask to be
// unlocked), fills in cfg's account fields (Homeserver, UserID,
// AccessToken, Secrets) and runs the flow. emit is called from that
// goroutine for every event, ending with exactly one GrantDone or
// login.Failed whose error is a *GrantError.
//
// The account's keys go to the new device only when this computer's
// sign-in of the account is verified (MSC4108 "Secret sharing and device
// verification": only a trusted device may vouch for another); otherwise
// cfg.Secrets stays nil and the flow warns secrets_not_shared.
func StartGrant(parent context.Context, userID string, cfg login.GrantConfig, store GrantStore, emit func(login.Event)) *GrantController {
	ctx, cancel := context.WithCancel(parent)
	c := &GrantController{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		defer cancel()
		res, damaged, err := c.run(ctx, userID, cfg, store, emit)
		if err != nil && sessionEnded(err, cfg) {
			err = fmt.Errorf("%w: %w", ErrSessionEnded, err)
		}
		if err != nil {
			err = &GrantError{UserID: userID, Err: err}
		}
		c.mu.Lock()
		c.result, c.err = res, err
		c.mu.Unlock()
		if err != nil {
			emit(login.Failed{Err: err})
			return
		}
		done := GrantDone{UserID: userID, DeviceID: res.DeviceID, SecretsSent: res.SecretsSent}
		switch {
		case res.SecretsSent:
		case damaged:
			done.KeysNotSent = WarningStoredKeysDamaged
		default:
			done.KeysNotSent = login.WarningSecretsNotShared
		}
		emit(done)
	}()
	return c
}

// run reads the account and runs the flow; damaged reports that the
// account's stored keys could not be read (and were not sent).
func (c *GrantController) run(ctx context.Context, userID string, cfg login.GrantConfig, store GrantStore, emit func(login.Event)) (res *login.GrantResult, damaged bool, err error) {
	// The tokens are read apart (AccessToken), so a damaged key item only
	// costs the keys, not the grant.
	a, unreadable, err := store.LoadKeys(userID)
	if err != nil {
		return nil, false, err
	}
	cfg.Homeserver, cfg.UserID = a.Homeserver, a.UserID
	cfg.AccessToken = func(ctx context.Context) (string, error) {
		tok, err := store.AccessToken(ctx, userID, Refresh)
		return tok.Reveal(), err
	}
	var keysErr error
	if unreadable != nil {
		keysErr = unreadable
	}
	var secrets grantKeys
	if a.Verified && keysErr == nil {
		secrets, keysErr = grantSecrets(a)
	}
	// The stored strings cannot be wiped; drop them at least, so only the
	// byte copies below (zeroed when the grant ends) stay in use.
	verified := a.Verified
	a = nil
	defer secrets.zero()
	cfg.Secrets = secrets.GrantSecrets
	flowEmit := emit
	// Keys of an account not verified here are not sent whether they read
	// or not; the flow's secrets_not_shared says so.
	if damaged = keysErr != nil && verified; damaged {
		emit(login.Warning{Code: WarningStoredKeysDamaged, Message: "The encryption keys stored for this account on this computer cannot be read (" +
			keysErr.Error() + "), so none are sent to the new device."})
		// The flow, given no keys, would add that the account is not
		// verified here, which is not why.
		flowEmit = func(ev login.Event) {
			if w, ok := ev.(login.Warning); ok && w.Code == login.WarningSecretsNotShared {
				return
			}
			emit(ev)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, damaged, login.ErrCancelled
	}
	g := newGrant(cfg, flowEmit)
	c.mu.Lock()
	c.grant = g
	c.mu.Unlock()
	res, err = g.Run(ctx)
	return res, damaged, err
}

// grantKeys holds the decoded keys the grant sends, to zero them after.
type grantKeys struct{ *login.GrantSecrets }

func (k grantKeys) zero() {
	if k.GrantSecrets == nil {
		return
	}
	for _, b := range [][]byte{k.MasterKey, k.SelfSigningKey, k.UserSigningKey, k.BackupKey} {
		clear(b)
	}
}

// grantSecrets decodes the stored keys of a verified account: the three
// cross-signing seeds and, when both are stored, the backup key and its
// version. An unverified account, or one without the seeds, shares none.
// A stored key that does not decode to 32 bytes is reported, and none is
// shared.
func grantSecrets(a *accounts.Account) (grantKeys, error) {
	if !a.Verified || a.MasterKey == "" || a.SelfSigningKey == "" || a.UserSigningKey == "" {
		return grantKeys{}, nil
	}
	s := grantKeys{&login.GrantSecrets{}}
	fields := []struct {
		name string
		in   accounts.Secret
		out  *[]byte
	}{
		{"master key", a.MasterKey, &s.MasterKey},
		{"self-signing key", a.SelfSigningKey, &s.SelfSigningKey},
		{"user-signing key", a.UserSigningKey, &s.UserSigningKey},
	}
	if a.BackupKey != "" && a.BackupVersion != "" {
		fields = append(fields, struct {
			name string
			in   accounts.Secret
			out  *[]byte
		}{"backup key", a.BackupKey, &s.BackupKey})
		s.BackupVersion = a.BackupVersion
	}
	for _, f := range fields {
		b, err := decodeKey(f.in)
		if err != nil {
			s.zero()
			return grantKeys{}, errors.New("the " + f.name + " " + err.Error())
		}
		*f.out = b
	}
	return s, nil
}

// decodeKey reads a 32-byte private key as the keyring keeps it (unpadded
// base64, docs/keyring-schema.md).
func decodeKey(s accounts.Secret) ([]byte, error) {
	b, err := base64.RawStdEncoding.DecodeString(s.Reveal())
	if err != nil {
		return nil, errors.New("is not base64")
	}
	if len(b) != 32 {
		clear(b)
		return nil, errors.New("is not 32 bytes long")
	}
	return b, nil
}

func (c *GrantController) flow() grantRunner {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.grant
}

// SubmitCheckCode passes the digits typed from the new device's screen.
func (c *GrantController) SubmitCheckCode(code string) bool {
	if g := c.flow(); g != nil {
		return g.SubmitCheckCode(code)
	}
	return false
}

// SwitchGeneration regenerates the QR code in the other protocol
// generation.
func (c *GrantController) SwitchGeneration() {
	if g := c.flow(); g != nil {
		g.SwitchGeneration()
	}
}

// Cancel stops the grant; the flow tells the new device and deletes the
// rendezvous before Wait returns.
func (c *GrantController) Cancel() { c.cancel() }

// Wait blocks until the grant ended and returns its outcome.
func (c *GrantController) Wait() (*login.GrantResult, error) {
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.result, c.err
}

// WaitTimeout is Wait with a limit, for closing a window.
func (c *GrantController) WaitTimeout(d time.Duration) error {
	select {
	case <-c.done:
		return nil
	case <-time.After(d):
		return errors.New("signin: signing in the other device did not stop in time")
	}
}
