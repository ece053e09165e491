package login

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
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
// SecretsShared or Warning "secrets_not_shared", then the caller's Done
// or Failed.
type Grant struct {
	cfg  GrantConfig
	emit func(Event)

	checkCodeInput
	regen chan struct{}
	ran   atomic.Bool

	// link is the channel to the new device once it scanned, the session
	// under it, and whose turn it is (channel.go).
	link
}

// NewGrant prepares a grant. emit receives progress events on the grant's
// goroutine; it must not block for long.
func NewGrant(cfg GrantConfig, emit func(Event)) *Grant {
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.FailureGrace == 0 {
		cfg.FailureGrace = 3 * time.Second
	}
	if cfg.DeviceCreationTimeout == 0 {
		cfg.DeviceCreationTimeout = 10 * time.Second
	}
	if cfg.Variant == "" {
		cfg.Variant = vocab.VariantReference
	}
	if emit == nil {
		emit = func(Event) {}
	}
	return &Grant{cfg: cfg, emit: emit, checkCodeInput: newCheckCodeInput(), regen: make(chan struct{}, 1),
		link: link{grace: cfg.FailureGrace}}
}

// SubmitCheckCode hands over the digits the new device shows. It is
// accepted once, and only after CheckCodeNeeded; it reports whether it was
// taken.
func (g *Grant) SubmitCheckCode(code string) bool { return g.submit(code) }

// SwitchGeneration asks for a fresh QR code in the other generation. It
// only has an effect while the QR code is showing.
func (g *Grant) SwitchGeneration() { requestSwitch(g.regen) }

// Errors that end a grant, besides those a sign-in shares (ErrCancelled,
// ErrRendezvousExpired, ErrDeclined, *PhoneFailure, the check code's).
// Each was told to the new device with the m.login.failure reason named.
var (
	// ErrUnsupportedProtocol: the new device asked for a sign-in protocol
	// other than device_authorization_grant (unsupported_protocol).
	ErrUnsupportedProtocol = errors.New("login: the new device asked to sign in in a way this computer does not support")
	// ErrDeviceAlreadyExists: the device ID the new device announced is
	// already on the account (device_already_exists).
	ErrDeviceAlreadyExists = errors.New("login: a device with the new device's ID is already on the account")
	// ErrVerificationURI: the approval page could not be opened, or its
	// address is not https (unable_to_open_verification_uri).
	ErrVerificationURI = errors.New("login: the page to approve the new device could not be opened")
	// ErrUnsafeVerificationURI is the ErrVerificationURI of a page this
	// computer refused to open: the new device named an address that is
	// not https (http only on this machine's loopback). MSC4108 "Malicious
	// client sends arbitrary verification URI": whoever scanned the code
	// may not be the user's device.
	ErrUnsafeVerificationURI = fmt.Errorf("%w: the new device asked to open an address that is not https", ErrVerificationURI)
	// ErrDeviceNotFound: the new device reported success but did not appear
	// on the account in time (device_not_found).
	ErrDeviceNotFound = errors.New("login: the new device did not appear on the account")
)
