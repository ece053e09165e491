package login_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/internal/devserver/devservertest"
	"github.com/qrlogin/qrlogin/internal/phone"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/matrix"
	"github.com/qrlogin/qrlogin/protocol/msc4108"
	"github.com/qrlogin/qrlogin/protocol/oauth"
	"github.com/qrlogin/qrlogin/protocol/qrcode"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// These run the existing-device flow (Grant) in process against the dev
// homeserver on 127.0.0.1, with internal/phone's scripted new device on
// the other side (MSC4108 "new device" that scanned, MSC4388 role S) and a
// stand-in for the browser that submits the dev homeserver's consent form
// over HTTP. A minimal new device built here from the protocol packages
// remains only for proposals the scripted one cannot make (a verification
// URI the server would never hand out, no device ID). interop/jssdk runs
// the same flow against matrix-js-sdk's new device.

// desktopDeviceID is the grant's own device on the dev homeserver.
const desktopDeviceID = "QRLOGINDESKTOP"

// devServerWith runs a dev homeserver on 127.0.0.1 with cfg (a 1 s
// device-grant interval unless cfg sets one) until the test ends.
func devServerWith(t *testing.T, cfg devserver.Config) *devserver.Server {
	t.Helper()
	if cfg.PollInterval == 0 {
		cfg.PollInterval = time.Second
	}
	return devservertest.Start(t, cfg)
}

// accountSecrets returns the dev account's secrets as the keyring would
// hand them to a grant: raw 32-byte keys.
func accountSecrets(t *testing.T, srv *devserver.Server) *login.GrantSecrets {
	t.Helper()
	acct, err := srv.AccountSecrets()
	if err != nil {
		t.Fatal(err)
	}
	raw := func(s devserver.Secret) []byte {
		if s == "" {
			return nil
		}
		b, err := base64.RawStdEncoding.DecodeString(s.Reveal())
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return &login.GrantSecrets{
		MasterKey: raw(acct.MasterKey), SelfSigningKey: raw(acct.SelfSigningKey), UserSigningKey: raw(acct.UserSigningKey),
		BackupKey: raw(acct.BackupKey), BackupVersion: acct.BackupVersion,
	}
}

// Decisions the browser's user takes on the consent page.
const (
	approve = devserver.ConsentApprove
	deny    = devserver.ConsentDeny
	// undecided leaves the page open without answering.
	undecided = ""
)

// browser plays the system browser of the computer running the grant and
// the person in front of it (MSC4108 step 5): the grant's OpenURI hands it
// the page; it loads the page in the background and submits the consent
// form with the user code the new device shows, as the person reads it
// off the new device's screen.
type browser struct {
	t        *testing.T
	decision string

	mu     sync.Mutex
	opened []string
	device *phone.NewDevice
	ready  chan struct{} // closed once device is set
	errs   chan error
}

func newBrowser(t *testing.T, decision string) *browser {
	return &browser{t: t, decision: decision, ready: make(chan struct{}), errs: make(chan error, 4)}
}

// open is the grant's OpenURI: it returns at once, as a browser that was
// started does, and the person decides on the page after it loaded.
func (b *browser) open(uri string) error {
	b.mu.Lock()
	b.opened = append(b.opened, uri)
	b.mu.Unlock()
	if b.decision == undecided {
		return nil
	}
	go func() { b.errs <- b.decide(uri, b.decision) }()
	return nil
}

// showing hands the browser's user the new device whose screen they read
// the user code from.
func (b *browser) showing(n *phone.NewDevice) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.device == nil {
		b.device = n
		close(b.ready)
	}
}

// decide loads the consent page at uri and submits decision for the user
// code the new device shows.
func (b *browser) decide(uri, decision string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	select {
	case <-b.ready:
	case <-ctx.Done():
		return errors.New("browser: no new device to read the user code from")
	}
	sent, err := b.device.ProtocolSent(ctx)
	if err != nil {
		return fmt.Errorf("browser: the new device shows no user code: %w", err)
	}
	return submitConsent(ctx, uri, sent.UserCode, decision)
}

func (b *browser) openedURIs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.opened)
}

// submitConsent loads the consent page at pageURI as a browser does, then
// posts its form with userCode and the Approve or Deny button.
func submitConsent(ctx context.Context, pageURI, userCode, decision string) error {
	return devserver.SubmitConsent(ctx, &http.Client{Timeout: 10 * time.Second}, pageURI, userCode, decision)
}

// grantRun is a Grant running on its own goroutine, with the events it
// emitted and the browser it opens pages in.
type grantRun struct {
	t       *testing.T
	g       *login.Grant
	cfg     login.GrantConfig
	browser *browser
	cancel  context.CancelFunc
	qrs     chan login.QRReady
	done    chan struct{}
	res     *login.GrantResult
	err     error
	mu      sync.Mutex
	events  []login.Event
	uriAt   time.Time // when the verification_uri event came
}

// startGrant runs a grant for the dev account, signed in on
// desktopDeviceID, with its secrets and a browser that approves; edit
// changes the config first.
func startGrant(ctx context.Context, t *testing.T, srv *devserver.Server, preference string, edit func(*login.GrantConfig)) *grantRun {
	t.Helper()
	return startGrantWith(ctx, t, srv, preference, approve, edit)
}

// startGrantWith is startGrant with the browser's decision.
func startGrantWith(ctx context.Context, t *testing.T, srv *devserver.Server, preference, decision string, edit func(*login.GrantConfig)) *grantRun {
	t.Helper()
	tokens, err := srv.LoginDevice(desktopDeviceID)
	if err != nil {
		t.Fatal(err)
	}
	r := &grantRun{t: t, browser: newBrowser(t, decision), qrs: make(chan login.QRReady, 8), done: make(chan struct{})}
	r.cfg = login.GrantConfig{
		Homeserver: srv.URL(),
		UserID:     srv.UserID(),
		AccessToken: func(context.Context) (string, error) {
			return tokens.AccessToken.Reveal(), nil
		},
		Secrets:               accountSecrets(t, srv),
		Preference:            preference,
		Poll:                  fast,
		FailureGrace:          200 * time.Millisecond,
		DeviceCreationTimeout: 2 * time.Second,
		OpenURI:               r.browser.open,
	}
	if edit != nil {
		edit(&r.cfg)
	}
	r.g = login.NewGrant(r.cfg, func(ev login.Event) {
		r.mu.Lock()
		r.events = append(r.events, ev)
		if _, ok := ev.(login.VerificationURI); ok {
			r.uriAt = time.Now()
		}
		r.mu.Unlock()
		if q, ok := ev.(login.QRReady); ok {
			r.qrs <- q
		}
	})
	runCtx, cancel := context.WithCancel(ctx)
	r.cancel = cancel
	go func() {
		defer close(r.done)
		defer cancel()
		r.res, r.err = r.g.Run(runCtx)
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			t.Error("the grant did not end")
		}
	})
	return r
}

// nextQR waits for the next QR code the grant shows.
func (r *grantRun) nextQR() login.QRReady {
	r.t.Helper()
	select {
	case q := <-r.qrs:
		return q
	case <-r.done:
		r.t.Fatalf("the grant ended before showing a QR code: %v", r.err)
	case <-time.After(30 * time.Second):
		r.t.Fatal("no QR code within 30 s")
	}
	return login.QRReady{}
}

// scan has internal/phone's scripted new device scan qr, in the
// background, with cfg (fast polls and a fresh device ID unless set). The
// browser reads the user code off its screen. When the test ends the new
// device is stopped if it still runs.
func (r *grantRun) scan(ctx context.Context, qr login.QRReady, cfg phone.NewDeviceConfig) *phone.NewDevice {
	r.t.Helper()
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Poll == (rendezvous.PollConfig{}) {
		cfg.Poll = fast
	}
	devCtx, stop := context.WithCancel(ctx)
	n := phone.StartNewDevice(devCtx, cfg, qr.Payload)
	r.browser.showing(n)
	r.t.Cleanup(func() {
		stop()
		select {
		case <-n.Done():
		case <-time.After(10 * time.Second):
			r.t.Error("the new device did not stop")
		}
	})
	return n
}

// typeCode types the check code once the grant asks for it.
func (r *grantRun) typeCode(code string) {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !r.g.SubmitCheckCode(code) {
		if time.Now().After(deadline) {
			r.t.Fatal("the grant never asked for the check code")
		}
		select {
		case <-r.done:
			r.t.Fatalf("the grant ended before asking for the check code: %v", r.err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// typeCodeOf types the check code the new device shows.
func (r *grantRun) typeCodeOf(ctx context.Context, n *phone.NewDevice) string {
	r.t.Helper()
	code, err := n.CheckCode(ctx)
	if err != nil {
		r.t.Fatalf("the new device shows no check code: %v", err)
	}
	r.typeCode(code)
	return code
}

// wait returns how the grant ended.
func (r *grantRun) wait() (*login.GrantResult, error) {
	r.t.Helper()
	select {
	case <-r.done:
	case <-time.After(60 * time.Second):
		r.t.Fatal("the grant did not end within 60 s")
	}
	return r.res, r.err
}

// names lists the events emitted so far, by their --json names.
func (r *grantRun) names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ev := range r.events {
		out = append(out, ev.Name())
	}
	return out
}

func (r *grantRun) openedURIs() []string { return r.browser.openedURIs() }

// browserErr reports the browser's failure to submit the consent form, if
// it tried.
func (r *grantRun) browserErr() error {
	select {
	case err := <-r.browser.errs:
		return err
	case <-time.After(5 * time.Second):
		return errors.New("the browser never answered the consent page")
	}
}

func eventOf[E login.Event](r *grantRun) (E, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range r.events {
		if e, ok := ev.(E); ok {
			return e, true
		}
	}
	var zero E
	return zero, false
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// scanned runs a grant, has the scripted new device (cfg) scan its first
// QR code, and types the check code the new device shows. The new device
// starts its device authorization and sends m.login.protocol at once, as
// matrix-js-sdk's does, so the proposal usually waits on the rendezvous
// before the code is typed.
func scanned(t *testing.T, srv *devserver.Server, preference string, edit func(*login.GrantConfig), cfg phone.NewDeviceConfig) (context.Context, *grantRun, *phone.NewDevice) {
	t.Helper()
	return scannedWith(t, srv, preference, approve, edit, cfg)
}

// scannedWith is scanned with the browser's decision.
func scannedWith(t *testing.T, srv *devserver.Server, preference, decision string, edit func(*login.GrantConfig), cfg phone.NewDeviceConfig) (context.Context, *grantRun, *phone.NewDevice) {
	t.Helper()
	ctx := testCtx(t)
	r := startGrantWith(ctx, t, srv, preference, decision, edit)
	n := r.scan(ctx, r.nextQR(), cfg)
	r.typeCodeOf(ctx, n)
	return ctx, r, n
}

// existingDeviceFailure checks that the new device ended on the grant's
// m.login.failure with reason.
func existingDeviceFailure(t *testing.T, n *phone.NewDevice, reason string) *phone.NewDeviceResult {
	t.Helper()
	res, err := n.Wait()
	var f *phone.ExistingDeviceFailure
	if !errors.As(err, &f) || f.Reason != reason {
		t.Fatalf("new device: %v, want m.login.failure %s from the grant", err, reason)
	}
	return res
}

// rendezvousGone checks that the session behind qr is deleted (or
// expired): joining it again fails with ErrExpired.
func rendezvousGone(ctx context.Context, t *testing.T, qr []byte) {
	t.Helper()
	q, err := qrcode.Decode(qr)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var joinErr error
		switch q.Generation {
		case vocab.MSC4388:
			c, err := rendezvous.NewClient(rendezvous.ClientConfig{BaseURL: q.BaseURL, Poll: fast})
			if err != nil {
				t.Fatal(err)
			}
			_, joinErr = c.Join(ctx, q.BaseURL, q.RendezvousID)
		default:
			c, err := rendezvous.NewETagClient(rendezvous.ETagConfig{Poll: fast})
			if err != nil {
				t.Fatal(err)
			}
			_, joinErr = c.Join(ctx, q.RendezvousURL)
		}
		if errors.Is(joinErr, rendezvous.ErrExpired) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the rendezvous is still there after the grant ended (join: %v)", joinErr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// forEachGeneration is eachGeneration with the generation as the
// preference that asks for it.
func forEachGeneration(t *testing.T, test func(t *testing.T, preference string)) {
	t.Helper()
	eachGeneration(t, func(t *testing.T, gen vocab.Generation) { test(t, string(gen)) })
}

// checkGrantQR checks what the grant's QR code says: intent 0x01 (MSC4388)
// or mode 0x04 (2024) naming the account's server, in the generation
// asked for.
func checkGrantQR(t *testing.T, srv *devserver.Server, qr login.QRReady, preference string) {
	t.Helper()
	q, err := qrcode.Decode(qr.Payload)
	if err != nil {
		t.Fatalf("decoding the QR code: %v", err)
	}
	if string(q.Generation) != preference || qr.Protocol != preference {
		t.Fatalf("QR code of generation %s (event %s), want %s", q.Generation, qr.Protocol, preference)
	}
	switch q.Generation {
	case vocab.MSC4388:
		if q.Intent != qrcode.IntentExistingDevice || q.BaseURL != srv.URL() {
			t.Fatalf("QR code %v; want intent 0x01 with base URL %s", q, srv.URL())
		}
	default:
		host := strings.TrimPrefix(srv.URL(), "http://")
		if q.Intent != qrcode.IntentExistingDevice || q.ServerName != host {
			t.Fatalf("QR code %v; want mode 0x04 naming server %s (the user ID's domain)", q, host)
		}
	}
}

// TestGrantSignsInNewDevice walks the whole existing-device flow in both
// generations with the scripted new device: the QR code, the check code,
// m.login.protocol read after the code was typed, the device-ID check,
// the consent page opened and approved in the browser, protocol_accepted,
// m.login.success, the device check and m.login.secrets, which the new
// device checks against the keys the dev homeserver publishes for the
// account. The secrets are zeroed afterwards and the rendezvous deleted.
func TestGrantSignsInNewDevice(t *testing.T) {
	forEachGeneration(t, func(t *testing.T, preference string) {
		srv := devServerWith(t, devserver.Config{VerificationURIComplete: true})
		ctx := testCtx(t)
		r := startGrant(ctx, t, srv, preference, nil)
		qr := r.nextQR()
		checkGrantQR(t, srv, qr, preference)
		// A rust-sdk style device ID, with "/" and "+": the device checks
		// must percent-encode it.
		const deviceID = "Ab/cd+ef0123456789"
		n := r.scan(ctx, qr, phone.NewDeviceConfig{DeviceID: deviceID})
		code := r.typeCodeOf(ctx, n)

		nres, err := n.Wait()
		if err != nil {
			t.Fatalf("new device: %v", err)
		}
		if err := r.browserErr(); err != nil {
			t.Fatal(err)
		}
		res, err := r.wait()
		if err != nil {
			t.Fatalf("grant: %v", err)
		}
		if res.DeviceID != deviceID || !res.SecretsSent {
			t.Fatalf("result %+v, want device %s with secrets", res, deviceID)
		}
		if nres.CheckCode != code || string(nres.Generation) != preference || nres.Homeserver != srv.URL() ||
			!nres.Accepted || !nres.SignedIn || !nres.SuccessSent || nres.UserID != srv.UserID() {
			t.Fatalf("the new device saw %+v", nres)
		}
		acct, err := srv.AccountSecrets()
		if err != nil {
			t.Fatal(err)
		}
		s := nres.Secrets
		if s == nil || !s.CrossSigning() || !s.Backup || s.BackupVersion != acct.BackupVersion || !s.Verified {
			t.Fatalf("m.login.secrets as the new device saw it: %+v (backup version %s)", s, acct.BackupVersion)
		}
		if _, ok := srv.Device(deviceID); !ok {
			t.Errorf("device %s is not on the account", deviceID)
		}

		sent, _ := n.ProtocolSent(ctx)
		if got := r.openedURIs(); !slices.Equal(got, []string{sent.VerificationURIComplete}) || sent.VerificationURIComplete == "" {
			t.Fatalf("opened %q, want verification_uri_complete %q", got, sent.VerificationURIComplete)
		}
		want := []string{"qr", "check_code_needed", "secure_channel_established", "verification_uri", "device_signed_in", "secrets_shared"}
		if got := r.names(); !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
		if v, _ := eventOf[login.VerificationURI](r); v.URI != sent.VerificationURIComplete || !v.Opened {
			t.Errorf("verification_uri event %+v", v)
		}
		if d, _ := eventOf[login.NewDeviceSignedIn](r); d.DeviceID != deviceID {
			t.Errorf("device_signed_in event %+v", d)
		}
		if s, _ := eventOf[login.SecretsShared](r); !s.CrossSigning || !s.Backup {
			t.Errorf("secrets_shared event %+v", s)
		}
		for name, k := range map[string][]byte{"master": r.cfg.Secrets.MasterKey, "backup": r.cfg.Secrets.BackupKey} {
			if slices.ContainsFunc(k, func(b byte) bool { return b != 0 }) {
				t.Errorf("the %s key was not zeroed", name)
			}
		}
		rendezvousGone(ctx, t, qr.Payload)
	})
}

// TestGrantWithoutVerifiedSecrets: an account that is not verified on this
// computer signs the new device in but sends no m.login.secrets, and says
// so; the new device hears nothing more and the rendezvous goes away.
func TestGrantWithoutVerifiedSecrets(t *testing.T) {
	forEachGeneration(t, func(t *testing.T, preference string) {
		srv := devServerWith(t, devserver.Config{})
		// A grace period longer than the test: with nothing sent after the
		// new device's m.login.success there is nothing to leave for it, so
		// the rendezvous goes at once.
		ctx, r, n := scanned(t, srv, preference, func(c *login.GrantConfig) {
			c.Secrets = nil
			c.FailureGrace = time.Hour
		}, phone.NewDeviceConfig{})
		nres, nerr := n.Wait()
		if ctx.Err() != nil {
			t.Fatal("the grant kept the rendezvous for the grace period with nothing left to read")
		}
		if !errors.Is(nerr, rendezvous.ErrExpired) || !nres.SignedIn || !nres.SuccessSent || nres.Secrets != nil {
			t.Fatalf("new device: %+v, %v; want signed in, no secrets, the rendezvous gone", nres, nerr)
		}
		res, err := r.wait()
		if err != nil || res.SecretsSent || res.DeviceID != nres.DeviceID {
			t.Fatalf("grant: %+v, %v; want device %s without secrets", res, err, nres.DeviceID)
		}
		want := []string{"qr", "check_code_needed", "secure_channel_established", "verification_uri", "device_signed_in", "warning"}
		if got := r.names(); !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
		w, _ := eventOf[login.Warning](r)
		if w.Code != "secrets_not_shared" || !strings.Contains(w.Message, "not verified") {
			t.Fatalf("warning %+v, want secrets_not_shared", w)
		}
	})
}

// TestGrantDeviceAlreadyExists: a new device that announces a device ID
// already on the account hears device_already_exists, and no page opens
// (MSC4108 "4. Existing device checks device_id").
func TestGrantDeviceAlreadyExists(t *testing.T) {
	forEachGeneration(t, func(t *testing.T, preference string) {
		srv := devServerWith(t, devserver.Config{})
		_, r, n := scanned(t, srv, preference, nil, phone.NewDeviceConfig{DeviceID: desktopDeviceID})
		if nres := existingDeviceFailure(t, n, msc4108.ReasonDeviceAlreadyExists); nres.Accepted || nres.SignedIn {
			t.Fatalf("the new device went on: %+v", nres)
		}
		if _, err := r.wait(); !errors.Is(err, login.ErrDeviceAlreadyExists) {
			t.Fatalf("grant: %v, want %v", err, login.ErrDeviceAlreadyExists)
		}
		if got := r.openedURIs(); len(got) != 0 {
			t.Fatalf("opened %q for a device that exists", got)
		}
	})
}

// TestGrantDeviceCheckFails: when the homeserver cannot say whether the
// device exists, the new device hears device_already_exists (matrix-rust-
// sdk's rule), and this computer's caller gets the real cause.
func TestGrantDeviceCheckFails(t *testing.T) {
	srv := devServerWith(t, devserver.Config{})
	// The 2024 discovery and create need no token.
	_, r, n := scanned(t, srv, "msc4108-2024", func(c *login.GrantConfig) {
		c.AccessToken = func(context.Context) (string, error) { return "not-a-token", nil }
	}, phone.NewDeviceConfig{})
	existingDeviceFailure(t, n, msc4108.ReasonDeviceAlreadyExists)
	_, err := r.wait()
	var me *matrix.Error
	if !errors.As(err, &me) || me.Status != http.StatusUnauthorized || errors.Is(err, login.ErrDeviceAlreadyExists) {
		t.Fatalf("grant: %v, want the 401 from GET /devices", err)
	}
}

// TestGrantDeviceCheckUnrecognized: a 404 that is not about the device
// (M_UNRECOGNIZED: a server or proxy that does not serve GET /devices/{id})
// does not say that the device ID is unused: the grant stops before any
// page opens, and the new device hears device_already_exists, as for any
// check that fails.
func TestGrantDeviceCheckUnrecognized(t *testing.T) {
	srv := devServerWith(t, devserver.Config{})
	if err := srv.InjectFault(devserver.Fault{PathPrefix: "/_matrix/client/v3/devices/", Count: 1, Status: http.StatusNotFound, Errcode: "M_UNRECOGNIZED"}); err != nil {
		t.Fatal(err)
	}
	_, r, n := scanned(t, srv, "msc4388", nil, phone.NewDeviceConfig{})
	existingDeviceFailure(t, n, msc4108.ReasonDeviceAlreadyExists)
	_, err := r.wait()
	var me *matrix.Error
	if !errors.As(err, &me) || me.Status != http.StatusNotFound || me.Errcode != "M_UNRECOGNIZED" || errors.Is(err, login.ErrDeviceAlreadyExists) {
		t.Fatalf("grant: %v, want the 404 M_UNRECOGNIZED from GET /devices", err)
	}
	if got := r.openedURIs(); len(got) != 0 {
		t.Fatalf("opened %q", got)
	}
}

// TestGrantWrongCheckCode: a mistyped code ends the grant without a word
// on the untrusted channel, and deletes the rendezvous; the new device is
// never accepted.
func TestGrantWrongCheckCode(t *testing.T) {
	forEachGeneration(t, func(t *testing.T, preference string) {
		srv := devServerWith(t, devserver.Config{})
		ctx := testCtx(t)
		r := startGrant(ctx, t, srv, preference, nil)
		qr := r.nextQR()
		n := r.scan(ctx, qr, phone.NewDeviceConfig{})
		code, err := n.CheckCode(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var typed int
		_, _ = fmt.Sscanf(code, "%d", &typed)
		r.typeCode(fmt.Sprintf("%02d", (typed+1)%100))
		if _, err := r.wait(); !errors.Is(err, securechannel.ErrCheckCodeMismatch) {
			t.Fatalf("grant: %v, want %v", err, securechannel.ErrCheckCodeMismatch)
		}
		nres, nerr := n.Wait()
		var f *phone.ExistingDeviceFailure
		if !errors.Is(nerr, rendezvous.ErrExpired) || errors.As(nerr, &f) || nres.Accepted {
			t.Fatalf("new device: %+v, %v; want the rendezvous gone and no message", nres, nerr)
		}
		rendezvousGone(ctx, t, qr.Payload)
		if got := r.names(); slices.Contains(got, "secure_channel_established") || len(r.openedURIs()) != 0 {
			t.Fatalf("events %v, opened %v", got, r.openedURIs())
		}
	})
}

// TestGrantUnsupportedProtocol: a new device that asks to sign in with
// another protocol than device_authorization_grant hears
// unsupported_protocol, before any page opens.
func TestGrantUnsupportedProtocol(t *testing.T) {
	forEachGeneration(t, func(t *testing.T, preference string) {
		srv := devServerWith(t, devserver.Config{})
		_, r, n := scanned(t, srv, preference, nil, phone.NewDeviceConfig{Script: phone.NewDeviceScript{Protocol: "m.login.password"}})
		existingDeviceFailure(t, n, msc4108.ReasonUnsupportedProtocol)
		if _, err := r.wait(); !errors.Is(err, login.ErrUnsupportedProtocol) {
			t.Fatalf("grant: %v, want %v", err, login.ErrUnsupportedProtocol)
		}
		if got := r.openedURIs(); len(got) != 0 {
			t.Fatalf("opened %q", got)
		}
	})
}

// TestGrantUnexpectedMessage: a message of a type nobody expects, in place
// of m.login.protocol or m.login.success, gets unexpected_message_received.
func TestGrantUnexpectedMessage(t *testing.T) {
	for _, st := range phone.NewDeviceSteps {
		t.Run(string(st), func(t *testing.T) {
			forEachGeneration(t, func(t *testing.T, preference string) {
				srv := devServerWith(t, devserver.Config{})
				_, r, n := scanned(t, srv, preference, nil, phone.NewDeviceConfig{Script: phone.NewDeviceScript{UnexpectedAt: st}})
				existingDeviceFailure(t, n, msc4108.ReasonUnexpectedMessageReceived)
				_, err := r.wait()
				var unexpected *login.UnexpectedMessageError
				if !errors.As(err, &unexpected) {
					t.Fatalf("grant: %v, want an unexpected message", err)
				}
				if _, ok := eventOf[login.NewDeviceSignedIn](r); ok {
					t.Fatal("device_signed_in without m.login.success")
				}
			})
		})
	}
}

// TestGrantTamperedMessage: a bit flipped in the ciphertext of the new
// device's m.login.protocol or m.login.success on the wire fails to
// decrypt; the grant stops there and sends no secrets.
func TestGrantTamperedMessage(t *testing.T) {
	for _, st := range phone.NewDeviceSteps {
		t.Run(string(st), func(t *testing.T) {
			forEachGeneration(t, func(t *testing.T, preference string) {
				srv := devServerWith(t, devserver.Config{})
				_, r, n := scanned(t, srv, preference, nil, phone.NewDeviceConfig{Script: phone.NewDeviceScript{TamperAt: st}})
				if _, err := r.wait(); !errors.Is(err, securechannel.ErrDecrypt) {
					t.Fatalf("grant: %v, want %v", err, securechannel.ErrDecrypt)
				}
				nres, nerr := n.Wait()
				if nerr == nil || nres.Secrets != nil {
					t.Fatalf("new device: %+v, %v; want it stopped without secrets", nres, nerr)
				}
				if _, ok := eventOf[login.NewDeviceSignedIn](r); ok {
					t.Fatal("device_signed_in after a tampered message")
				}
			})
		})
	}
}

// TestGrantNewDeviceGivesUp: the new device sends m.login.failure in place
// of m.login.protocol (its user cancelled); the grant ends with that
// reason and answers nothing.
func TestGrantNewDeviceGivesUp(t *testing.T) {
	forEachGeneration(t, func(t *testing.T, preference string) {
		srv := devServerWith(t, devserver.Config{})
		_, r, n := scanned(t, srv, preference, nil, phone.NewDeviceConfig{Script: phone.NewDeviceScript{
			FailAt: phone.StepProtocol, FailReason: msc4108.ReasonUserCancelled}})
		_, err := r.wait()
		var pf *login.PhoneFailure
		if !errors.As(err, &pf) || pf.Reason != msc4108.ReasonUserCancelled {
			t.Fatalf("grant: %v, want the new device's user_cancelled", err)
		}
		var sent *phone.SentFailureError
		if _, nerr := n.Wait(); !errors.As(nerr, &sent) {
			t.Fatalf("new device: %v", nerr)
		}
	})
}

// TestGrantNewDeviceWritesFirst: the new device gives up out of turn,
// right after m.login.protocol or m.login.success, while the grant checks
// the device on the account; the grant's next write (protocol_accepted,
// m.login.secrets) meets a concurrent write (MSC4388 409, 2024 412). The
// grant reads and opens the new device's message, as a sign-in does
// (TestPhoneWritesFirstAfterApproval), and ends with its reason; the
// rendezvous goes away.
func TestGrantNewDeviceWritesFirst(t *testing.T) {
	for _, st := range []phone.Step{phone.StepProtocol, phone.StepSuccess} {
		t.Run(string(st), func(t *testing.T) {
			forEachGeneration(t, func(t *testing.T, preference string) {
				srv := devServerWith(t, devserver.Config{})
				release, wrote := make(chan struct{}), make(chan struct{})
				var wroteOnce, holdOnce sync.Once
				newDeviceHTTP := watchingClient(func(req *http.Request, status int) {
					select {
					case <-release:
						if req.Method == http.MethodPut && status/100 == 2 {
							wroteOnce.Do(func() { close(wrote) })
						}
					default:
					}
				})
				// The grant waits in its device check (the 404 before
				// protocol_accepted, the 200 before m.login.secrets) until
				// the new device's out-of-turn write has landed.
				hold := http.StatusNotFound
				if st == phone.StepSuccess {
					hold = http.StatusOK
				}
				var conflicts atomic.Int32
				grantHTTP := watchingClient(func(req *http.Request, status int) {
					if req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/devices/") && status == hold {
						holdOnce.Do(func() {
							close(release)
							select {
							case <-wrote:
							case <-time.After(10 * time.Second):
								t.Error("the new device did not write out of turn")
							}
						})
					}
					if req.Method == http.MethodPut && (status == http.StatusConflict || status == http.StatusPreconditionFailed) {
						conflicts.Add(1)
					}
				})
				ctx := testCtx(t)
				r := startGrant(ctx, t, srv, preference, func(c *login.GrantConfig) { c.HTTP = grantHTTP })
				qr := r.nextQR()
				n := r.scan(ctx, qr, phone.NewDeviceConfig{
					HTTP: newDeviceHTTP, OutOfTurnAfter: release,
					Script: phone.NewDeviceScript{FailOutOfTurnAfter: st, FailReason: msc4108.ReasonUserCancelled},
				})
				r.typeCodeOf(ctx, n)
				_, err := r.wait()
				var pf *login.PhoneFailure
				if !errors.As(err, &pf) || pf.Reason != msc4108.ReasonUserCancelled {
					t.Fatalf("grant: %v, want the new device's user_cancelled", err)
				}
				var sent *phone.SentFailureError
				if _, nerr := n.Wait(); !errors.As(nerr, &sent) {
					t.Fatalf("new device: %v", nerr)
				}
				if c := conflicts.Load(); c != 1 {
					t.Errorf("the grant met %d concurrent-write answers, want 1", c)
				}
				if _, ok := eventOf[login.SecretsShared](r); ok {
					t.Error("secrets_shared after the new device gave up")
				}
				rendezvousGone(ctx, t, qr.Payload)
			})
		})
	}
}

// minimalNewDevice is a new device built here from the protocol packages
// (rendezvous, securechannel, oauth), for proposals the scripted new
// device cannot make: it sends whatever m.login.protocol the test writes.
type minimalNewDevice struct {
	t      *testing.T
	srv    *devserver.Server
	ch     *securechannel.Channel
	client *oauth.Client
	auth   *oauth.DeviceAuthorization
	id     string
}

// scanMinimal joins the rendezvous of the QR code, completes the secure
// channel as S and starts a device authorization at the homeserver
// (MSC4108 step 2).
func scanMinimal(ctx context.Context, t *testing.T, srv *devserver.Server, payload []byte) *minimalNewDevice {
	t.Helper()
	return scanMinimalWith(ctx, t, srv, payload, nil)
}

// scanMinimalWith is scanMinimal reaching the rendezvous with rc (nil: a
// default client).
func scanMinimalWith(ctx context.Context, t *testing.T, srv *devserver.Server, payload []byte, rc *http.Client) *minimalNewDevice {
	t.Helper()
	q, err := qrcode.Decode(payload)
	if err != nil {
		t.Fatalf("decoding the QR code: %v", err)
	}
	n := &minimalNewDevice{t: t, srv: srv}
	var (
		sess rendezvous.Session
		bind securechannel.Binding
	)
	switch q.Generation {
	case vocab.MSC4388:
		c, err := rendezvous.NewClient(rendezvous.ClientConfig{BaseURL: q.BaseURL, HTTPClient: rc, Poll: fast})
		if err != nil {
			t.Fatal(err)
		}
		if sess, err = c.Join(ctx, q.BaseURL, q.RendezvousID); err != nil {
			t.Fatalf("joining the rendezvous: %v", err)
		}
		bind = securechannel.Binding{BaseURL: q.BaseURL, RendezvousID: q.RendezvousID}
	default:
		c, err := rendezvous.NewETagClient(rendezvous.ETagConfig{HTTPClient: rc, Poll: fast})
		if err != nil {
			t.Fatal(err)
		}
		if sess, err = c.Join(ctx, q.RendezvousURL); err != nil {
			t.Fatalf("joining the rendezvous: %v", err)
		}
	}
	if n.ch, err = securechannel.Scan(ctx, q.Generation, vocab.VariantReference, sess, q.PublicKey[:], bind); err != nil {
		t.Fatalf("secure channel: %v", err)
	}
	t.Cleanup(n.ch.Close)

	hc := &http.Client{Timeout: 10 * time.Second}
	md, err := oauth.Discover(ctx, hc, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	clientID, err := oauth.Register(ctx, hc, md)
	if err != nil {
		t.Fatal(err)
	}
	n.id = oauth.NewDeviceID()
	scopes, err := oauth.Scopes(n.id, false)
	if err != nil {
		t.Fatal(err)
	}
	n.client = &oauth.Client{HTTP: hc, Metadata: md, ClientID: clientID}
	if n.auth, err = n.client.StartDeviceAuthorization(ctx, scopes); err != nil {
		t.Fatal(err)
	}
	return n
}

// protocol is the m.login.protocol an honest new device sends.
func (n *minimalNewDevice) protocol() msc4108.Protocol {
	return msc4108.Protocol{
		Type: msc4108.TypeProtocol, Protocol: msc4108.ProtocolDeviceGrant, DeviceID: n.id,
		DeviceGrant: &msc4108.DeviceGrant{VerificationURI: n.auth.VerificationURI, VerificationURIComplete: n.auth.VerificationURIComplete},
	}
}

func (n *minimalNewDevice) send(ctx context.Context, msg any) {
	n.t.Helper()
	b, err := json.Marshal(msg)
	if err != nil {
		n.t.Fatal(err)
	}
	if err := n.ch.Send(ctx, b); err != nil {
		n.t.Fatalf("new device sending %s: %v", b, err)
	}
}

// expectFailure reads the grant's next message, which must be
// m.login.failure with reason.
func (n *minimalNewDevice) expectFailure(ctx context.Context, reason string) {
	n.t.Helper()
	raw, err := n.ch.Receive(ctx, vocab.PaceReply)
	if err != nil {
		n.t.Fatalf("new device waiting for m.login.failure: %v", err)
	}
	var f msc4108.Failure
	if err := json.Unmarshal(raw, &f); err != nil || f.Type != msc4108.TypeFailure || f.Reason != reason {
		n.t.Fatalf("the grant sent %s, want m.login.failure with reason %q", raw, reason)
	}
}

// TestGrantRefusesProposal: m.login.protocol proposals that no honest
// server hands a new device end the grant with the reason MSC4108 names,
// before any page opens (the scripted new device proposes what the dev
// homeserver answered, so a minimal one writes these).
func TestGrantRefusesProposal(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(*msc4108.Protocol)
		reason string
		want   error
	}{
		// MSC4108 "Malicious client sends arbitrary verification URI".
		{"plain http page", func(p *msc4108.Protocol) { p.DeviceGrant.VerificationURI = "http://consent.example.org/link" },
			msc4108.ReasonUnableToOpenVerificationURI, login.ErrUnsafeVerificationURI},
		{"other scheme", func(p *msc4108.Protocol) { p.DeviceGrant.VerificationURIComplete = "javascript:alert(1)" },
			msc4108.ReasonUnableToOpenVerificationURI, login.ErrUnsafeVerificationURI},
		{"no device ID", func(p *msc4108.Protocol) { p.DeviceID = "" }, msc4108.ReasonUnexpectedMessageReceived, nil},
		// Path segments that GET /devices/{id} would not ask about.
		{"device ID .", func(p *msc4108.Protocol) { p.DeviceID = "." }, msc4108.ReasonUnexpectedMessageReceived, nil},
		{"device ID ..", func(p *msc4108.Protocol) { p.DeviceID = ".." }, msc4108.ReasonUnexpectedMessageReceived, nil},
		// Invisible format characters (Unicode Cf) that make one ID look
		// like another, or reverse the text around it.
		{"zero-width space in device ID", func(p *msc4108.Protocol) { p.DeviceID = "ABC\u200bDEF" }, msc4108.ReasonUnexpectedMessageReceived, nil},
		{"right-to-left override in device ID", func(p *msc4108.Protocol) { p.DeviceID = "\u202eFEDCBA" }, msc4108.ReasonUnexpectedMessageReceived, nil},
		{"byte order mark in device ID", func(p *msc4108.Protocol) { p.DeviceID = "\ufeffABCDEF" }, msc4108.ReasonUnexpectedMessageReceived, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := devServerWith(t, devserver.Config{})
			ctx := testCtx(t)
			r := startGrant(ctx, t, srv, "msc4388", nil)
			defer r.cancel()
			n := scanMinimal(ctx, t, srv, r.nextQR().Payload)
			p := n.protocol()
			tc.edit(&p)
			n.send(ctx, p)
			r.typeCode(n.ch.CheckCode().String())
			n.expectFailure(ctx, tc.reason)
			_, err := r.wait()
			var unexpected *login.UnexpectedMessageError
			if tc.want != nil && !errors.Is(err, tc.want) || tc.want == nil && !errors.As(err, &unexpected) {
				t.Fatalf("grant: %v", err)
			}
			// The reason's error as well, for callers that match it.
			if tc.reason == msc4108.ReasonUnableToOpenVerificationURI && !errors.Is(err, login.ErrVerificationURI) {
				t.Fatalf("grant: %v does not match %v", err, login.ErrVerificationURI)
			}
			if got := r.openedURIs(); len(got) != 0 {
				t.Fatalf("opened %q", got)
			}
		})
	}
}

// TestGrantPlainHTTPPageOnlyForALoopbackHomeserver: a page on this
// machine's loopback over plain http is opened only for an account whose
// own homeserver is plain http on loopback (the dev homeserver, as in the
// other tests). For an account on an https homeserver, a new device that
// proposes such a page would have this computer's browser open a local
// service (MSC4108 "Malicious client sends arbitrary verification URI"):
// the grant refuses it. The https homeserver here is a TLS front on
// 127.0.0.1 for the dev homeserver.
func TestGrantPlainHTTPPageOnlyForALoopbackHomeserver(t *testing.T) {
	srv := devServerWith(t, devserver.Config{})
	backend, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(backend))
	t.Cleanup(front.Close)
	ctx := testCtx(t)
	r := startGrant(ctx, t, srv, "msc4388", func(c *login.GrantConfig) {
		c.Homeserver, c.HTTP = front.URL, front.Client()
	})
	defer r.cancel()
	qr := r.nextQR()
	n := scanMinimalWith(ctx, t, srv, qr.Payload, front.Client())
	p := n.protocol()
	if u, _ := url.Parse(p.DeviceGrant.VerificationURI); u == nil || u.Scheme != "http" {
		t.Fatalf("the dev homeserver's page is %q, want plain http on loopback", p.DeviceGrant.VerificationURI)
	}
	n.send(ctx, p)
	r.typeCode(n.ch.CheckCode().String())
	n.expectFailure(ctx, msc4108.ReasonUnableToOpenVerificationURI)
	if _, err := r.wait(); !errors.Is(err, login.ErrVerificationURI) {
		t.Fatalf("grant: %v, want %v", err, login.ErrVerificationURI)
	}
	if got := r.openedURIs(); len(got) != 0 {
		t.Fatalf("opened %q", got)
	}
}

// TestGrantOpensTheCheckedURI: the browser and the verification_uri event
// get the page's address as this computer parsed and checked it, not the
// new device's raw text.
func TestGrantOpensTheCheckedURI(t *testing.T) {
	srv := devServerWith(t, devserver.Config{})
	ctx := testCtx(t)
	r := startGrantWith(ctx, t, srv, "msc4388", undecided, nil) // the page is not loaded
	defer r.cancel()
	n := scanMinimal(ctx, t, srv, r.nextQR().Payload)
	p := n.protocol()
	p.DeviceGrant.VerificationURIComplete = " HTTPS://consent.example.org/approve device?code=1"
	const want = "https://consent.example.org/approve%20device?code=1"
	n.send(ctx, p)
	r.typeCode(n.ch.CheckCode().String())
	raw, err := n.ch.Receive(ctx, vocab.PaceReply)
	if typ, _ := msc4108.TypeOf(raw); err != nil || typ != msc4108.TypeProtocolAccepted {
		t.Fatalf("the new device got %s, %v; want m.login.protocol_accepted", raw, err)
	}
	if got := r.openedURIs(); !slices.Equal(got, []string{want}) {
		t.Fatalf("opened %q, want %q", got, want)
	}
	if v, ok := eventOf[login.VerificationURI](r); !ok || v.URI != want || !v.Opened {
		t.Fatalf("verification_uri event %+v, want %s opened", v, want)
	}
}

// TestGrantCannotOpenBrowser: a browser that cannot be started is
// unable_to_open_verification_uri (MSC4108 step 4).
func TestGrantCannotOpenBrowser(t *testing.T) {
	forEachGeneration(t, func(t *testing.T, preference string) {
		srv := devServerWith(t, devserver.Config{})
		_, r, n := scanned(t, srv, preference, func(c *login.GrantConfig) {
			c.OpenURI = func(string) error { return errors.New("no browser") }
		}, phone.NewDeviceConfig{})
		if nres := existingDeviceFailure(t, n, msc4108.ReasonUnableToOpenVerificationURI); nres.Accepted {
			t.Fatalf("the new device was accepted: %+v", nres)
		}
		if _, err := r.wait(); !errors.Is(err, login.ErrVerificationURI) || errors.Is(err, login.ErrUnsafeVerificationURI) {
			t.Fatalf("grant: %v", err)
		}
		if _, ok := eventOf[login.VerificationURI](r); ok {
			t.Fatal("verification_uri event for a page that did not open")
		}
	})
}

// TestGrantWithoutBrowser: with no way to open pages (the terminal), the
// grant says where the page is and goes on; the person opens it and
// approves, and the new device is signed in.
func TestGrantWithoutBrowser(t *testing.T) {
	srv := devServerWith(t, devserver.Config{})
	ctx, r, n := scanned(t, srv, "msc4388", func(c *login.GrantConfig) { c.OpenURI = nil }, phone.NewDeviceConfig{})
	var v login.VerificationURI
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var ok bool
		if v, ok = eventOf[login.VerificationURI](r); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no verification_uri event; events %v", r.names())
		}
	}
	sent, err := n.ProtocolSent(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v.URI != sent.VerificationURI || v.Opened {
		t.Fatalf("verification_uri event %+v, want %s not opened", v, sent.VerificationURI)
	}
	r.g.SwitchGeneration() // too late to matter
	if err := submitConsent(ctx, v.URI, sent.UserCode, approve); err != nil {
		t.Fatal(err)
	}
	if nres, err := n.Wait(); err != nil || nres.Secrets == nil || !nres.Secrets.Verified {
		t.Fatalf("new device: %+v (secrets %+v), %v", nres, nres.Secrets, err)
	}
	if res, err := r.wait(); err != nil || !res.SecretsSent {
		t.Fatalf("grant: %+v, %v", res, err)
	}
}

// TestGrantDenied: the user denies on the consent page; the new device
// ends the grant with m.login.failure user_cancelled, as matrix-js-sdk
// does, or m.login.declined (the MSC4108 step 6 diagram, matrix-rust-sdk).
// Nothing is answered and the rendezvous goes away.
func TestGrantDenied(t *testing.T) {
	for _, tc := range []struct {
		name     string
		declined bool
		want     func(error) bool
	}{
		{"failure", false, func(err error) bool {
			var pf *login.PhoneFailure
			return errors.As(err, &pf) && pf.Reason == msc4108.ReasonUserCancelled
		}},
		{"declined", true, func(err error) bool { return errors.Is(err, login.ErrDeclined) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachGeneration(t, func(t *testing.T, preference string) {
				srv := devServerWith(t, devserver.Config{})
				ctx := testCtx(t)
				r := startGrantWith(ctx, t, srv, preference, deny, nil)
				qr := r.nextQR()
				n := r.scan(ctx, qr, phone.NewDeviceConfig{Script: phone.NewDeviceScript{AnswerDeclined: tc.declined}})
				r.typeCodeOf(ctx, n)
				if _, err := r.wait(); !tc.want(err) {
					t.Fatalf("grant: %v", err)
				}
				if err := r.browserErr(); err != nil {
					t.Fatal(err)
				}
				if nres, err := n.Wait(); !errors.Is(err, phone.ErrUserDenied) || nres.SignedIn {
					t.Fatalf("new device: %+v, %v", nres, err)
				}
				rendezvousGone(ctx, t, qr.Payload)
				if _, ok := eventOf[login.NewDeviceSignedIn](r); ok {
					t.Fatal("device_signed_in after a denial")
				}
			})
		})
	}
}

// TestGrantDeviceNeverAppears: m.login.success from a device that is not
// on the account (it never fetched its token) gets device_not_found after
// the whole DeviceCreationTimeout, never the secrets (MSC4108 "1. Existing
// device confirms that the new device has indeed logged in").
func TestGrantDeviceNeverAppears(t *testing.T) {
	forEachGeneration(t, func(t *testing.T, preference string) {
		srv := devServerWith(t, devserver.Config{})
		// The token comes from the keyring under its lock: the device
		// checks (every 500 ms) share one, fetched after the absence check.
		var tokenReads atomic.Int32
		_, r, n := scannedWith(t, srv, preference, undecided, func(c *login.GrantConfig) {
			c.DeviceCreationTimeout = 2 * time.Second
			token := c.AccessToken
			c.AccessToken = func(ctx context.Context) (string, error) {
				tokenReads.Add(1)
				return token(ctx)
			}
		}, phone.NewDeviceConfig{Script: phone.NewDeviceScript{SkipToken: true}})
		nres := existingDeviceFailure(t, n, msc4108.ReasonDeviceNotFound)
		if !nres.SuccessSent || nres.SignedIn || nres.Secrets != nil {
			t.Fatalf("new device: %+v", nres)
		}
		res, err := r.wait()
		ended := time.Now()
		if !errors.Is(err, login.ErrDeviceNotFound) || res != nil {
			t.Fatalf("grant: %+v, %v", res, err)
		}
		// Run ends the failure's grace period after sending it.
		r.mu.Lock()
		waited := ended.Sub(r.uriAt) - r.cfg.FailureGrace
		r.mu.Unlock()
		if waited < 2*time.Second {
			t.Errorf("device_not_found %v after protocol_accepted, want the whole DeviceCreationTimeout (2 s)", waited)
		}
		// For MSC4388 the rendezvous discovery and the session's creation;
		// then the absence check and the device checks.
		if got, most := tokenReads.Load(), int32(4); got > most {
			t.Errorf("the access token was fetched %d times, want at most %d", got, most)
		}
		if _, ok := eventOf[login.SecretsShared](r); ok {
			t.Fatal("secrets shared with a device that is not on the account")
		}
	})
}

// awaitEvent waits until the grant emitted an event of type E.
func awaitEvent[E login.Event](t *testing.T, r *grantRun) E {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if e, ok := eventOf[E](r); ok {
			return e
		}
		if time.Now().After(deadline) {
			var zero E
			t.Fatalf("no %s event; events %v", zero.Name(), r.names())
		}
	}
}

// TestGrantDeviceCheckAfterSignOut: when the account's token stops working
// while the new device signs in, the new device hears device_not_found and
// this computer's caller gets the 401 that explains it.
func TestGrantDeviceCheckAfterSignOut(t *testing.T) {
	srv := devServerWith(t, devserver.Config{})
	var signedOut atomic.Bool
	_, r, n := scanned(t, srv, "msc4108-2024", func(c *login.GrantConfig) {
		c.DeviceCreationTimeout = time.Second
		token, open := c.AccessToken, c.OpenURI
		c.AccessToken = func(ctx context.Context) (string, error) {
			if signedOut.Load() {
				return "not-a-token", nil
			}
			return token(ctx)
		}
		// The device-absent check is done by the time the page opens:
		// from then on the account's token no longer works.
		c.OpenURI = func(uri string) error {
			signedOut.Store(true)
			return open(uri)
		}
	}, phone.NewDeviceConfig{})
	existingDeviceFailure(t, n, msc4108.ReasonDeviceNotFound)
	_, err := r.wait()
	var me *matrix.Error
	if !errors.Is(err, login.ErrDeviceNotFound) || !errors.As(err, &me) || me.Status != http.StatusUnauthorized {
		t.Fatalf("grant: %v, want device_not_found carrying the 401", err)
	}
}

// TestGrantCancelled: cancelling while the new device waits for consent
// ends the grant with ErrCancelled and deletes the rendezvous (it is the
// new device's turn, so nothing can be written: approved afterwards, the
// new device finds the rendezvous gone); cancelling on our turn tells the
// new device user_cancelled.
func TestGrantCancelled(t *testing.T) {
	t.Run("waiting for consent", func(t *testing.T) {
		t.Parallel()
		srv := devServerWith(t, devserver.Config{})
		ctx, r, n := scannedWith(t, srv, "msc4388", undecided, nil, phone.NewDeviceConfig{})
		v := awaitEvent[login.VerificationURI](t, r)
		r.cancel()
		if _, err := r.wait(); !errors.Is(err, login.ErrCancelled) {
			t.Fatalf("grant: %v", err)
		}
		sent, err := n.ProtocolSent(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := submitConsent(ctx, v.URI, sent.UserCode, approve); err != nil {
			t.Fatal(err)
		}
		nres, nerr := n.Wait()
		var f *phone.ExistingDeviceFailure
		if !errors.Is(nerr, rendezvous.ErrExpired) || errors.As(nerr, &f) || nres.SuccessSent {
			t.Fatalf("new device: %+v, %v; want the rendezvous gone", nres, nerr)
		}
	})
	t.Run("waiting for the device", func(t *testing.T) {
		t.Parallel()
		srv := devServerWith(t, devserver.Config{})
		_, r, n := scannedWith(t, srv, "msc4108-2024", undecided, func(c *login.GrantConfig) { c.DeviceCreationTimeout = 20 * time.Second },
			phone.NewDeviceConfig{Script: phone.NewDeviceScript{SkipToken: true}})
		awaitEvent[login.VerificationURI](t, r)
		time.Sleep(500 * time.Millisecond) // m.login.success arrives; the grant polls /devices
		r.cancel()
		existingDeviceFailure(t, n, msc4108.ReasonUserCancelled)
		if _, err := r.wait(); !errors.Is(err, login.ErrCancelled) {
			t.Fatalf("grant: %v", err)
		}
	})
}

// TestGrantRendezvousExpiresMidFlow: the new device scans and then stays
// silent, in place of m.login.protocol or, after protocol_accepted, of
// m.login.success; the session runs out on the server and both sides end
// with it.
func TestGrantRendezvousExpiresMidFlow(t *testing.T) {
	for _, st := range phone.NewDeviceSteps {
		t.Run(string(st), func(t *testing.T) {
			forEachGeneration(t, func(t *testing.T, preference string) {
				srv := devServerWith(t, devserver.Config{SessionTTL2024: 3 * time.Second, SessionTTLMSC4388: 3 * time.Second})
				_, r, n := scannedWith(t, srv, preference, undecided, nil, phone.NewDeviceConfig{Script: phone.NewDeviceScript{SilentAt: st}})
				if _, err := r.wait(); !errors.Is(err, login.ErrRendezvousExpired) {
					t.Fatalf("grant: %v, want %v", err, login.ErrRendezvousExpired)
				}
				nres, nerr := n.Wait()
				if !errors.Is(nerr, rendezvous.ErrExpired) || nres.SuccessSent {
					t.Fatalf("new device: %+v, %v", nres, nerr)
				}
				if accepted := st == phone.StepSuccess; nres.Accepted != accepted {
					t.Fatalf("new device accepted %v, want %v", nres.Accepted, accepted)
				}
			})
		})
	}
}

// TestGrantFreshQRAfterExpiry: nobody scans before the rendezvous expires;
// the grant shows a fresh QR code (new session, new key) and keeps
// waiting, without asking for a check code.
func TestGrantFreshQRAfterExpiry(t *testing.T) {
	forEachGeneration(t, func(t *testing.T, preference string) {
		srv := devServerWith(t, devserver.Config{SessionTTL2024: 2 * time.Second, SessionTTLMSC4388: 2 * time.Second})
		ctx := testCtx(t)
		r := startGrant(ctx, t, srv, preference, nil)
		first, second := r.nextQR(), r.nextQR()
		if string(first.Payload) == string(second.Payload) || !second.ExpiresAt.After(first.ExpiresAt) {
			t.Fatalf("the second QR code is not fresh: %x (until %v) after %x (until %v)",
				second.Payload, second.ExpiresAt, first.Payload, first.ExpiresAt)
		}
		p1, _ := qrcode.Decode(first.Payload)
		p2, _ := qrcode.Decode(second.Payload)
		if p1.PublicKey == p2.PublicKey {
			t.Fatal("the fresh QR code reuses the key")
		}
		// A new device that scans the expired code finds nothing to join.
		n := r.scan(ctx, first, phone.NewDeviceConfig{})
		if _, err := n.Wait(); !errors.Is(err, rendezvous.ErrExpired) {
			t.Fatalf("scanning the expired code: %v", err)
		}
		r.cancel()
		if _, err := r.wait(); !errors.Is(err, login.ErrCancelled) {
			t.Fatalf("grant: %v", err)
		}
		if slices.Contains(r.names(), "check_code_needed") {
			t.Fatalf("events %v", r.names())
		}
	})
}

// TestGrantAuthenticatedRendezvous: a server that offers MSC4388
// rendezvous sessions only to signed-in devices gets the account's token
// for the discovery and the create.
func TestGrantAuthenticatedRendezvous(t *testing.T) {
	srv := devServerWith(t, devserver.Config{MSC4388: devserver.MSC4388Authenticated, Disable2024: true})
	ctx := testCtx(t)
	r := startGrant(ctx, t, srv, "auto", nil)
	q := r.nextQR()
	if q.Protocol != "msc4388" {
		t.Fatalf("QR code of %s, want msc4388", q.Protocol)
	}
	r.cancel()
	if _, err := r.wait(); !errors.Is(err, login.ErrCancelled) {
		t.Fatalf("grant: %v", err)
	}
}

// TestGrantRefusesBadConfig: what cannot work is refused before a QR code
// is shown, and Run runs once.
func TestGrantRefusesBadConfig(t *testing.T) {
	srv := devServerWith(t, devserver.Config{})
	for _, tc := range []struct {
		name string
		edit func(*login.GrantConfig)
	}{
		{"no user ID", func(c *login.GrantConfig) { c.UserID = "alice" }},
		{"no token", func(c *login.GrantConfig) { c.AccessToken = nil }},
		{"insecure homeserver", func(c *login.GrantConfig) { c.Homeserver = "http://matrix.example.org" }},
		{"short key", func(c *login.GrantConfig) { c.Secrets.MasterKey = c.Secrets.MasterKey[:31] }},
		{"backup without version", func(c *login.GrantConfig) { c.Secrets.BackupVersion = "" }},
		{"MSC4388 on a separate rendezvous server", func(c *login.GrantConfig) {
			c.Preference = "msc4388"
			c.RendezvousServer = srv.URL()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			r := startGrant(ctx, t, srv, "auto", tc.edit)
			if _, err := r.wait(); err == nil {
				t.Fatal("grant ran")
			}
			if got := r.names(); len(got) != 0 {
				t.Fatalf("events %v before refusing", got)
			}
		})
	}
	t.Run("twice", func(t *testing.T) {
		g := login.NewGrant(login.GrantConfig{}, nil)
		_, first := g.Run(context.Background())
		if _, err := g.Run(context.Background()); err == nil || err.Error() == first.Error() {
			t.Fatalf("second Run: %v", err)
		}
	})
}

// TestGrantSecondRunKeepsTheFirstRunsSecrets: a second Run of the same
// grant is refused and leaves alone the secrets the first run, still
// showing its QR code, is about to share; the first run zeroes them when
// it ends.
func TestGrantSecondRunKeepsTheFirstRunsSecrets(t *testing.T) {
	srv := devServerWith(t, devserver.Config{})
	ctx := testCtx(t)
	r := startGrant(ctx, t, srv, "msc4388", nil)
	defer r.cancel()
	r.nextQR()
	if _, err := r.g.Run(ctx); err == nil {
		t.Fatal("a second Run ran")
	}
	keys := [][]byte{r.cfg.Secrets.MasterKey, r.cfg.Secrets.SelfSigningKey, r.cfg.Secrets.UserSigningKey, r.cfg.Secrets.BackupKey}
	for i, k := range keys {
		if !slices.ContainsFunc(k, func(b byte) bool { return b != 0 }) {
			t.Fatalf("key %d was zeroed by the refused second Run while the first still runs", i)
		}
	}
	r.cancel()
	if _, err := r.wait(); !errors.Is(err, login.ErrCancelled) {
		t.Fatalf("first Run: %v", err)
	}
	for i, k := range keys {
		if slices.ContainsFunc(k, func(b byte) bool { return b != 0 }) {
			t.Fatalf("key %d was not zeroed when the first Run ended", i)
		}
	}
}

// TestGrantSecretsRedacted: the secrets never print.
func TestGrantSecretsRedacted(t *testing.T) {
	s := login.GrantSecrets{MasterKey: []byte("0123456789abcdef0123456789abcdef"), BackupVersion: "v-secret-version"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x", "%X", "%o", "%b", "%c", "%U", "%e", "%T"} {
		for _, out := range []string{fmt.Sprintf(verb, s), fmt.Sprintf(verb, &s)} {
			if strings.Contains(out, "0123456789") || strings.Contains(out, "48 49") || strings.Contains(out, "3031") ||
				strings.Contains(out, "secret-version") || verb != "%T" && !strings.Contains(out, "[redacted]") {
				t.Errorf("%s printed %s", verb, out)
			}
		}
	}
}
