package login

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// GrantConfig is what signing in another device needs: the account this
// desktop holds (MSC4108 "existing device"; MSC4388 role G, the QR code
// shows intent 0x01 or, for the 2024 stack, mode 0x04).
type GrantConfig struct {
	// Homeserver is the account's client-server base URL.
	Homeserver string
	// UserID is the account's Matrix user ID.
	UserID string
	// AccessToken returns a valid access token for the account, refreshed
	// under the keyring lock by the caller when needed.
	AccessToken func(ctx context.Context) (string, error)
	// Secrets are the account's verified secrets to share with the new
	// device; nil when this account is not verified (then none are sent).
	Secrets *GrantSecrets
	// OpenURI opens the verification URI in the system browser; nil means
	// nothing can be opened here (the terminal prints the URI instead).
	OpenURI func(uri string) error
	// RendezvousServer optionally overrides where the rendezvous is created.
	RendezvousServer string
	// Preference is "auto", "msc4388" or "msc4108-2024".
	Preference string
	// Variant selects reference or MSC-text behaviour for MSC4388.
	Variant vocab.Variant
	// HTTP is the client for every request (nil: a default with timeouts).
	HTTP *http.Client
	// Poll sets the rendezvous poll intervals (zero: the defaults).
	Poll rendezvous.PollConfig
	// FailureGrace is how long to leave an m.login.failure on the rendezvous
	// for the other device to read before deleting the session (zero: 3 s).
	FailureGrace time.Duration
	// DeviceCreationTimeout bounds the wait for the new device to appear in
	// /devices after m.login.success (zero: 10 s).
	DeviceCreationTimeout time.Duration
}

// GrantSecrets are the secrets m.login.secrets carries (MSC4108 "Secret
// sharing and device verification"): the three private cross-signing seeds
// and, when the account has one, the backup key and its version. Each key is
// the raw 32 bytes; the flow zeroes them when it is done.
type GrantSecrets struct {
	MasterKey, SelfSigningKey, UserSigningKey []byte
	BackupKey                                 []byte // nil: no backup
	BackupVersion                             string
}

// GrantResult is a finished grant.
type GrantResult struct {
	// DeviceID is the new device's ID, as listed in /devices.
	DeviceID string
	// SecretsSent reports whether m.login.secrets was sent.
	SecretsSent bool
}

// VerificationURI: open this page in the browser on this computer to
// approve the new device (the terminal prints it; the window opens it).
// Opened says whether the system browser was asked to open it.
type VerificationURI struct {
	URI    string
	Opened bool
}

// NewDeviceSignedIn: the new device reported success and is listed on the
// account.
type NewDeviceSignedIn struct {
	DeviceID string
}

// SecretsShared: what was sent to the new device in m.login.secrets.
type SecretsShared struct {
	CrossSigning bool
	Backup       bool
}

func (VerificationURI) Name() string   { return "verification_uri" }
func (NewDeviceSignedIn) Name() string { return "device_signed_in" }
func (SecretsShared) Name() string     { return "secrets_shared" }

// Grant is one sign-in of another device by this desktop. Run it on one
// goroutine; the UI talks to it with SubmitCheckCode, SwitchGeneration and
// by cancelling the context. Events: QRReady, CheckCodeNeeded,
// SecureChannelEstablished, VerificationURI, NewDeviceSignedIn,
// SecretsShared, Warning, then the caller's Done or Failed.
type Grant struct {
	cfg  GrantConfig
	emit func(Event)
}

// NewGrant prepares a grant. emit receives progress events on the grant's
// goroutine; it must not block for long.
func NewGrant(cfg GrantConfig, emit func(Event)) *Grant {
	if emit == nil {
		emit = func(Event) {}
	}
	return &Grant{cfg: cfg, emit: emit}
}

// SubmitCheckCode hands over the digits the new device shows. It is
// accepted once, and only after CheckCodeNeeded.
func (g *Grant) SubmitCheckCode(code string) bool { return false }

// SwitchGeneration asks for a fresh QR code in the other generation.
func (g *Grant) SwitchGeneration() {}

// Run signs the other device in. Every failure after the channel is trusted
// is told to the other device before Run returns.
func (g *Grant) Run(ctx context.Context) (*GrantResult, error) {
	return nil, errors.New("login: signing in another device is not built yet")
}
