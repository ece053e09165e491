package login

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/qrlogin/qrlogin/protocol/internal/httpx"
	"github.com/qrlogin/qrlogin/protocol/msc4108"
	"github.com/qrlogin/qrlogin/protocol/vocab"

	"github.com/qrlogin/qrlogin/protocol/oauth"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
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

	codes  chan string
	regen  chan struct{}
	mu     sync.Mutex
	asking bool

	// state of the trusted channel, for telling the phone about failures
	ch      *securechannel.Channel
	ourTurn bool
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
	return &Flow{cfg: cfg, emit: emit, codes: make(chan string, 1), regen: make(chan struct{}, 1)}
}

// SubmitCheckCode hands over the digits the user typed. It is accepted
// once, and only after CheckCodeNeeded; it reports whether it was taken.
func (f *Flow) SubmitCheckCode(code string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.asking {
		return false
	}
	f.asking = false
	f.codes <- code
	return true
}

// SwitchGeneration asks for a fresh QR code in the other protocol
// generation ("my phone can't read this code"). It only has an effect
// while the QR code is showing.
func (f *Flow) SwitchGeneration() {
	select {
	case f.regen <- struct{}{}:
	default:
	}
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
	if err := f.confirmCheckCode(ctx, ch); err != nil {
		return nil, err
	}
	f.ch = ch
	f.emit(SecureChannelEstablished{})

	res, err = f.signIn(ctx, target)
	if err != nil {
		err = f.tellPhone(ctx, err)
		f.abandon(ctx, res) // tokens that will not be stored must not outlive the attempt
		return nil, err
	}
	return res, nil
}

// showQRUntilScanned creates a rendezvous and QR code, shows it, and waits
// for the phone's LoginInitiate. A session that expires before a scan is
// replaced by a fresh one (new rendezvous, new key, new QR code); the user
// may also ask for the other generation.
func (f *Flow) showQRUntilScanned(ctx context.Context, target *target) (*securechannel.Channel, error) {
	gen := target.generation
	for {
		q, err := f.newQR(ctx, target, gen)
		if err != nil {
			return nil, err
		}
		alt, _ := target.other(gen)
		f.emit(QRReady{Protocol: string(gen), Payload: q.payload, ExpiresAt: q.sess.ExpiresAt(), Alternative: string(alt)})

		scanCtx, cancelScan := context.WithCancel(ctx)
		switched := make(chan struct{})
		stop := make(chan struct{})
		go func() {
			select {
			case <-f.regen:
				close(switched)
				cancelScan()
			case <-stop:
			}
		}()
		ch, err := q.generator.Accept(scanCtx, q.sess, q.bind)
		close(stop)
		cancelScan()
		if err == nil {
			return ch, nil
		}
		deleteQuietly(q.sess)
		select {
		case <-switched:
			if other, ok := target.other(gen); ok {
				gen = other
			}
			continue
		default:
		}
		if ctx.Err() != nil {
			return nil, ErrCancelled
		}
		if errors.Is(err, rendezvous.ErrExpired) || errors.Is(err, context.DeadlineExceeded) {
			continue // nobody scanned in time: show a fresh code
		}
		return nil, err
	}
}

// confirmCheckCode asks the user for the phone's check code (MSC4388 step
// 7). A mismatch ends the attempt: the channel is not trusted, so nothing
// is sent; the rendezvous is deleted at once.
func (f *Flow) confirmCheckCode(ctx context.Context, ch *securechannel.Channel) error {
	f.mu.Lock()
	f.asking = true
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.asking = false
		f.mu.Unlock()
	}()
	f.emit(CheckCodeNeeded{})
	waitCtx, cancel := context.WithDeadline(ctx, ch.Session().ExpiresAt())
	defer cancel()
	select {
	case code := <-f.codes:
		if err := ch.Confirm(code); err != nil {
			deleteQuietly(ch.Session())
			return err
		}
		return nil
	case <-waitCtx.Done():
		deleteQuietly(ch.Session())
		if ctx.Err() != nil {
			return ErrCancelled
		}
		return ErrRendezvousExpired
	}
}

// signIn runs MSC4108 from m.login.protocols to m.login.secrets.
func (f *Flow) signIn(ctx context.Context, target *target) (*Result, error) {
	// 1. The phone states the protocols and the homeserver.
	raw, err := f.receive(ctx, vocab.PaceReply)
	if err != nil {
		return nil, err
	}
	var protocols msc4108.Protocols
	if err := f.expect(raw, msc4108.TypeProtocols, &protocols); err != nil {
		return nil, err
	}
	if !slices.Contains(protocols.Protocols, msc4108.ProtocolDeviceGrant) {
		return nil, &sendFailure{reason: msc4108.ReasonUnsupportedProtocol, err: errors.New("login: the other device offers no protocol this device supports")}
	}
	base, err := f.homeserverFromPhone(ctx, target, protocols)
	if err != nil {
		return nil, &sendFailure{reason: msc4108.ReasonUnsupportedProtocol, err: err}
	}
	f.emit(Homeserver{BaseURL: base})

	// 2. OAuth 2.0 device authorization (MSC4108 steps 2-3).
	md, err := oauth.Discover(ctx, f.cfg.HTTP, base)
	if err != nil {
		return nil, &sendFailure{reason: msc4108.ReasonUnsupportedProtocol, err: err}
	}
	clientID, err := oauth.ClientIDFor(ctx, f.cfg.HTTP, md, f.cfg.ClientIDs)
	if err != nil {
		return nil, &sendFailure{reason: msc4108.ReasonUnsupportedProtocol, err: err}
	}
	deviceID := oauth.NewDeviceID()
	scopes, err := oauth.Scopes(deviceID, f.cfg.UnstableScopes)
	if err != nil {
		return nil, &sendFailure{reason: msc4108.ReasonUnsupportedProtocol, err: err}
	}
	client := &oauth.Client{HTTP: f.cfg.HTTP, Metadata: md, ClientID: clientID}
	da, err := client.StartDeviceAuthorization(ctx, scopes)
	if oe := (*oauth.Error)(nil); errors.As(err, &oe) && (oe.Code == "invalid_client" || oe.Status == http.StatusUnauthorized) {
		// The server forgot the cached client (or never knew it): register
		// again once and retry.
		if client.ClientID, err = oauth.Register(ctx, f.cfg.HTTP, md); err == nil {
			_ = f.cfg.ClientIDs.SetClientID(md.Issuer, client.ClientID)
			clientID = client.ClientID
			da, err = client.StartDeviceAuthorization(ctx, scopes)
		}
	}
	if err != nil {
		return nil, &sendFailure{reason: msc4108.ReasonUnsupportedProtocol, err: err}
	}
	if err := f.send(ctx, msc4108.Protocol{
		Type: msc4108.TypeProtocol, Protocol: msc4108.ProtocolDeviceGrant, DeviceID: deviceID,
		DeviceGrant: &msc4108.DeviceGrant{VerificationURI: da.VerificationURI, VerificationURIComplete: da.VerificationURIComplete},
	}); err != nil {
		return nil, err
	}

	// 3. The phone checks the device ID and opens the consent page (step 4).
	raw, err = f.receive(ctx, vocab.PaceReply)
	if err != nil {
		return nil, err
	}
	if err := f.expect(raw, msc4108.TypeProtocolAccepted, nil); err != nil {
		return nil, err
	}
	expires := f.ch.Session().ExpiresAt()
	if !da.Expiry.IsZero() && da.Expiry.Before(expires) {
		expires = da.Expiry
	}
	f.emit(UserCode{UserCode: da.UserCode, VerificationURI: da.VerificationURI, ExpiresAt: expires})

	// 4. Wait for approval (step 6) while watching for the phone giving up.
	token, channelAlive, err := f.pollWhileWatching(ctx, client, da)
	if err != nil && token != nil {
		// Approved just as the attempt ended: hand the tokens back so Run
		// revokes them (no device left on the account that nothing here can use).
		return &Result{Metadata: md, ClientID: clientID, Token: *token, DeviceID: deviceID}, err
	}
	switch {
	case errors.Is(err, oauth.ErrAccessDenied):
		_ = f.sendFinal(ctx, msc4108.Simple{Type: msc4108.TypeDeclined})
		return nil, ErrDeclined
	case errors.Is(err, oauth.ErrAuthorizationExpired):
		return nil, &sendFailure{reason: msc4108.ReasonAuthorizationExpired, err: ErrAuthorizationExpired}
	case err != nil:
		return nil, err
	}

	res := &Result{Homeserver: base, Metadata: md, ClientID: clientID, Token: *token, DeviceID: deviceID}
	userID, err := f.whoami(ctx, base, token.AccessToken)
	if err != nil {
		return res, &sendFailure{reason: msc4108.ReasonDeviceNotFound, err: err}
	}
	res.UserID = userID
	f.emit(LoggedIn{UserID: userID, DeviceID: deviceID})

	// 5. Secrets (MSC4108 "Secret sharing and device verification").
	var secretsRaw []byte
	if channelAlive {
		if err := f.send(ctx, msc4108.Simple{Type: msc4108.TypeSuccess}); err != nil {
			channelAlive = false
			f.emit(Warning{Code: "secrets_unavailable", Message: "The phone could not be told that the sign-in worked, so it did not share the encryption keys."})
		} else if secretsRaw, err = f.receive(ctx, vocab.PaceReply); err != nil {
			channelAlive = false
			f.emit(Warning{Code: "secrets_unavailable", Message: "The phone did not share the encryption keys in time."})
		} else if err := f.expect(secretsRaw, msc4108.TypeSecrets, nil); err != nil {
			return res, err
		}
	} else {
		f.emit(Warning{Code: "secrets_unavailable", Message: "The connection to the phone ended before it could share the encryption keys."})
	}
	if err := f.finishEncryption(ctx, res, secretsRaw); err != nil {
		return res, err
	}
	f.emit(Secrets{CrossSigning: res.CrossSigning, Backup: res.Backup})
	deleteQuietly(f.ch.Session())
	return res, nil
}

// pollWhileWatching polls the token endpoint and, at the same time, the
// rendezvous: a phone that gives up (m.login.failure) or a message that
// does not open ends the wait at once. If only the rendezvous dies (servers
// end it 60-300 s after it was created), polling goes on undisturbed (its
// RFC 8628 interval intact): the approval can still arrive, and the sign-in
// then finishes without the encryption secrets (alive false). A token that
// arrived is returned even with an error, so the caller can revoke it.
func (f *Flow) pollWhileWatching(ctx context.Context, client *oauth.Client, da *oauth.DeviceAuthorization) (token *oauth.Token, alive bool, err error) {
	pollCtx, cancelPoll := context.WithCancel(ctx)
	defer cancelPoll()
	watchCtx, cancelWatch := context.WithCancel(ctx)
	type watched struct {
		raw []byte
		err error
	}
	watchDone := make(chan watched, 1)
	go func() {
		raw, err := f.ch.Receive(watchCtx, vocab.PaceHuman)
		if err == nil || errors.Is(err, securechannel.ErrDecrypt) {
			cancelPoll() // the phone wrote (it can only be giving up), or someone tampered
		}
		watchDone <- watched{raw, err}
	}()
	token, pollErr := client.PollToken(pollCtx, da)
	cancelWatch()
	w := <-watchDone
	switch {
	case w.err == nil:
		// The phone wrote while we waited: it may only be a failure.
		typ, _ := decodeMessage(w.raw)
		if typ == msc4108.TypeFailure {
			f.ourTurn = false // the phone has ended; nobody to answer
			return token, false, failureFrom(w.raw)
		}
		f.ourTurn = true
		return token, false, &sendFailure{reason: msc4108.ReasonUnexpectedMessageReceived, err: &UnexpectedMessageError{Got: typ, Want: "nothing while waiting for approval"}}
	case errors.Is(w.err, securechannel.ErrDecrypt):
		// The channel is not safe any more; the sign-in must not finish through it.
		f.ourTurn = false
		return token, false, w.err
	}
	// The watcher ended because we stopped it (alive), or because the
	// rendezvous died: then there is no turn to take any more.
	alive = errors.Is(w.err, context.Canceled)
	if !alive {
		f.ourTurn = false
	}
	if pollErr != nil {
		if ctx.Err() != nil {
			return token, alive, ErrCancelled
		}
		return token, alive, pollErr
	}
	return token, alive, nil
}

// receive reads the phone's next message; afterwards it is our turn.
func (f *Flow) receive(ctx context.Context, pace vocab.Pace) ([]byte, error) {
	raw, err := f.ch.Receive(ctx, pace)
	if err != nil {
		f.ourTurn = false // the session is gone or the channel broke
		return nil, mapRendezvousErr(err)
	}
	f.ourTurn = true
	return raw, nil
}

// send writes a message on our turn; afterwards it is the phone's turn.
func (f *Flow) send(ctx context.Context, msg any) error {
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if err := f.ch.Send(ctx, b); err != nil {
		f.ourTurn = false
		return mapRendezvousErr(err)
	}
	f.ourTurn = false
	return nil
}

// sendFinal sends a last message even when ctx was cancelled, then leaves
// it for the phone to read for FailureGrace and deletes the rendezvous.
func (f *Flow) sendFinal(ctx context.Context, msg any) error {
	if f.ch == nil || !f.ourTurn {
		deleteQuietly(f.sessionOrNil())
		return nil
	}
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := f.send(bg, msg)
	if err == nil {
		_ = httpx.Sleep(bg, f.cfg.FailureGrace)
	}
	deleteQuietly(f.sessionOrNil())
	return err
}

func (f *Flow) sessionOrNil() rendezvous.Session {
	if f.ch == nil {
		return nil
	}
	return f.ch.Session()
}

// expect checks that raw is a message of type want and decodes it into v
// (if not nil). A failure from the phone becomes *PhoneFailure; anything
// else is an unexpected message that we report back.
func (f *Flow) expect(raw []byte, want string, v any) error {
	typ, err := decodeMessage(raw)
	if err != nil {
		return &sendFailure{reason: msc4108.ReasonUnexpectedMessageReceived, err: err}
	}
	switch typ {
	case want:
	case msc4108.TypeFailure:
		f.ourTurn = false // the phone has ended; there is nobody to answer
		return failureFrom(raw)
	default:
		return &sendFailure{reason: msc4108.ReasonUnexpectedMessageReceived, err: &UnexpectedMessageError{Got: typ, Want: want}}
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			return &sendFailure{reason: msc4108.ReasonUnexpectedMessageReceived, err: &UnexpectedMessageError{Got: "malformed " + typ, Want: want}}
		}
	}
	return nil
}

// sendFailure marks an error that the phone must be told about with
// m.login.failure and the given reason.
type sendFailure struct {
	reason string
	err    error
}

func (e *sendFailure) Error() string { return e.err.Error() }
func (e *sendFailure) Unwrap() error { return e.err }

// tellPhone makes sure the phone hears about a failure (MSC4108: never
// leave it waiting): on our turn send m.login.failure, wait for the phone to
// read it, then delete the rendezvous; otherwise delete at once.
func (f *Flow) tellPhone(ctx context.Context, err error) error {
	reason := ""
	var sf *sendFailure
	switch {
	case errors.As(err, &sf):
		reason = sf.reason
		err = sf.err
	case ctx.Err() != nil || errors.Is(err, ErrCancelled):
		reason = msc4108.ReasonUserCancelled
		err = ErrCancelled
	case errors.Is(err, ErrDeclined):
		return err // m.login.declined was sent already
	}
	var pf *PhoneFailure
	if reason == "" && !errors.As(err, &pf) {
		reason = msc4108.ReasonUserCancelled // a local error the MSC has no reason for
	}
	if reason != "" {
		_ = f.sendFinal(ctx, msc4108.Failure{Type: msc4108.TypeFailure, Reason: reason})
	} else {
		deleteQuietly(f.sessionOrNil())
	}
	return err
}

// deleteQuietly cancels a rendezvous session, best effort, even when the
// caller's context is already cancelled.
func deleteQuietly(s rendezvous.Session) {
	if s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.Cancel(ctx)
}

// mapRendezvousErr turns an expired session into ErrRendezvousExpired.
func mapRendezvousErr(err error) error {
	if errors.Is(err, rendezvous.ErrExpired) {
		return fmt.Errorf("%w: %v", ErrRendezvousExpired, err)
	}
	return err
}
