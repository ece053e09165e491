package login

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/qrlogin/qrlogin/protocol/oauth"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// Config is what one sign-in needs.
type Config struct {
	// Homeserver is what the user typed: a server name or a base URL.
	Homeserver string
	// RendezvousServer optionally overrides where the rendezvous is created.
	RendezvousServer string
	// Preference is "auto", "msc4388" or "msc4108-2024".
	Preference string
	// Variant selects reference or MSC-text behaviour for MSC4388.
	Variant vocab.Variant
	// UnstableScopes requests the msc2967 scope names instead of the stable ones.
	UnstableScopes bool
	// HTTP is the client for every request (nil: a default with timeouts).
	HTTP *http.Client
	// Poll sets the rendezvous poll intervals (zero: the defaults).
	Poll rendezvous.PollConfig
	// ClientIDs caches OAuth client IDs per issuer (nil: in memory).
	ClientIDs oauth.ClientIDCache
	// FailureGrace is how long to leave an m.login.failure on the rendezvous
	// for the phone to read before deleting the session (zero: 3 s, three of
	// the phones' 1 s polls).
	FailureGrace time.Duration
}

// Result is a finished sign-in: everything the account store keeps.
type Result struct {
	UserID, DeviceID string
	Homeserver       string // client-server base URL
	Metadata         *oauth.Metadata
	ClientID         string
	Token            oauth.Token
	Verified         bool // device cross-signed with the verified self-signing key
	CrossSigning     bool // verified cross-signing seeds present in Secrets
	Backup           bool // verified backup key present in Secrets
	Secrets          *VerifiedSecrets
	Olm              *OlmIdentity
}

// Flow is one sign-in of this desktop as a new device that shows the QR
// code (MSC4108 with this device as "new device" and MSC4388 role G). Run
// it on one goroutine; the UI talks to it with SubmitCheckCode,
// SwitchGeneration and by cancelling the context.
type Flow struct {
	cfg  Config
	emit func(Event)

	checkCodeInput
	regen chan struct{}

	// link is the channel to the phone once it scanned, the session under
	// it, and whose turn it is (channel.go).
	link
}

// New prepares a sign-in. emit receives progress events on the flow's
// goroutine; it must not block for long.
func New(cfg Config, emit func(Event)) *Flow {
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.ClientIDs == nil {
		cfg.ClientIDs = &oauth.MemoryCache{}
	}
	if cfg.FailureGrace == 0 {
		cfg.FailureGrace = 3 * time.Second
	}
	if cfg.Variant == "" {
		cfg.Variant = vocab.VariantReference
	}
	if emit == nil {
		emit = func(Event) {}
	}
	return &Flow{cfg: cfg, emit: emit, checkCodeInput: newCheckCodeInput(), regen: make(chan struct{}, 1), link: link{grace: cfg.FailureGrace}}
}

// Run performs the sign-in and returns its result. Every failure after the
// channel is trusted is told to the phone before Run returns.
func (f *Flow) Run(ctx context.Context) (res *Result, err error) {
	defer func() {
		if err != nil && ctx.Err() != nil && !errors.Is(err, ErrCancelled) {
			err = fmt.Errorf("%w (%v)", ErrCancelled, err)
		}
	}()
	target, err := f.resolveTarget(ctx)
	if err != nil {
		return nil, err
	}
	ch, err := f.showQRUntilScanned(ctx, target)
	if err != nil {
		return nil, err
	}
	defer ch.Close()
	f.ch = ch
	if err := f.confirmCheckCode(ctx); err != nil {
		return nil, err
	}
	f.emit(SecureChannelEstablished{})

	res, err = f.signIn(ctx, target)
	if err != nil {
		err = f.tellPhone(ctx, err)
		f.abandon(ctx, res) // tokens that will not be stored must not outlive the attempt
		return nil, err
	}
	return res, nil
}
