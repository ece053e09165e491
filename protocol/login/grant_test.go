package login_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/devserver"
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
// homeserver on 127.0.0.1 and a minimal new device built here from the
// protocol packages (rendezvous, securechannel, oauth): MSC4108 "new
// device" that scanned, MSC4388 role S. interop/jssdk runs the same flow
// against matrix-js-sdk's new device.

// desktopDeviceID is the grant's own device on the dev homeserver.
const desktopDeviceID = "QRLOGINDESKTOP"

var grantGenerations = []struct {
	name, preference string
}{
	{"msc4388", "msc4388"},
	{"msc4108-2024", "msc4108-2024"},
}

func devServerWith(t *testing.T, cfg devserver.Config) *devserver.Server {
	t.Helper()
	if cfg.PollInterval == 0 {
		cfg.PollInterval = time.Second
	}
	srv, err := devserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); _ = srv.Close() })
	if err := srv.Start(ctx, "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	return srv
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

// grantRun is a Grant running on its own goroutine, with the events it
// emitted.
type grantRun struct {
	t      *testing.T
	g      *login.Grant
	cfg    login.GrantConfig
	cancel context.CancelFunc
	qrs    chan login.QRReady
	done   chan struct{}
	res    *login.GrantResult
	err    error
	mu     sync.Mutex
	events []login.Event
	opened []string
}

// startGrant runs a grant for the dev account, signed in on
// desktopDeviceID, with its secrets; edit changes the config first.
func startGrant(ctx context.Context, t *testing.T, srv *devserver.Server, preference string, edit func(*login.GrantConfig)) *grantRun {
	t.Helper()
	tokens, err := srv.LoginDevice(desktopDeviceID)
	if err != nil {
		t.Fatal(err)
	}
	r := &grantRun{t: t, qrs: make(chan login.QRReady, 8), done: make(chan struct{})}
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
		OpenURI: func(uri string) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.opened = append(r.opened, uri)
			return nil
		},
	}
	if edit != nil {
		edit(&r.cfg)
	}
	r.g = login.NewGrant(r.cfg, func(ev login.Event) {
		r.mu.Lock()
		r.events = append(r.events, ev)
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

func (r *grantRun) openedURIs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.opened)
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

// newDevice is the minimal new device: it scans the grant's QR code, joins
// the rendezvous, completes the secure channel as S and plays MSC4108's
// new device with the OAuth 2.0 device authorization grant.
type newDevice struct {
	t      *testing.T
	srv    *devserver.Server
	qr     qrcode.Payload
	sess   rendezvous.Session
	ch     *securechannel.Channel
	client *oauth.Client
	auth   *oauth.DeviceAuthorization
	id     string
}

func scanQR(ctx context.Context, t *testing.T, srv *devserver.Server, payload []byte) *newDevice {
	t.Helper()
	q, err := qrcode.Decode(payload)
	if err != nil {
		t.Fatalf("decoding the QR code: %v", err)
	}
	n := &newDevice{t: t, srv: srv, qr: q}
	var bind securechannel.Binding
	switch q.Generation {
	case vocab.MSC4388:
		c, err := rendezvous.NewClient(rendezvous.ClientConfig{BaseURL: q.BaseURL, Poll: fast})
		if err != nil {
			t.Fatal(err)
		}
		if n.sess, err = c.Join(ctx, q.BaseURL, q.RendezvousID); err != nil {
			t.Fatalf("joining the rendezvous: %v", err)
		}
		bind = securechannel.Binding{BaseURL: q.BaseURL, RendezvousID: q.RendezvousID}
	default:
		c, err := rendezvous.NewETagClient(rendezvous.ETagConfig{Poll: fast})
		if err != nil {
			t.Fatal(err)
		}
		if n.sess, err = c.Join(ctx, q.RendezvousURL); err != nil {
			t.Fatalf("joining the rendezvous: %v", err)
		}
	}
	if n.ch, err = securechannel.Scan(ctx, q.Generation, vocab.VariantReference, n.sess, q.PublicKey[:], bind); err != nil {
		t.Fatalf("secure channel: %v", err)
	}
	t.Cleanup(n.ch.Close)
	return n
}

// startDeviceGrant starts the OAuth 2.0 device authorization for deviceID
// ("" for a fresh one) at the homeserver, as MSC4108 step 2 describes.
func (n *newDevice) startDeviceGrant(ctx context.Context, deviceID string) {
	n.t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second}
	md, err := oauth.Discover(ctx, hc, n.srv.URL())
	if err != nil {
		n.t.Fatal(err)
	}
	clientID, err := oauth.Register(ctx, hc, md)
	if err != nil {
		n.t.Fatal(err)
	}
	if deviceID == "" {
		deviceID = oauth.NewDeviceID()
	}
	scopes, err := oauth.Scopes(deviceID, false)
	if err != nil {
		n.t.Fatal(err)
	}
	n.client = &oauth.Client{HTTP: hc, Metadata: md, ClientID: clientID}
	if n.auth, err = n.client.StartDeviceAuthorization(ctx, scopes); err != nil {
		n.t.Fatal(err)
	}
	n.id = deviceID
}

// protocol is the m.login.protocol this device sends for its grant.
func (n *newDevice) protocol() msc4108.Protocol {
	return msc4108.Protocol{
		Type: msc4108.TypeProtocol, Protocol: msc4108.ProtocolDeviceGrant, DeviceID: n.id,
		DeviceGrant: &msc4108.DeviceGrant{VerificationURI: n.auth.VerificationURI, VerificationURIComplete: n.auth.VerificationURIComplete},
	}
}

func (n *newDevice) send(ctx context.Context, msg any) {
	n.t.Helper()
	b, err := json.Marshal(msg)
	if err != nil {
		n.t.Fatal(err)
	}
	if err := n.ch.Send(ctx, b); err != nil {
		n.t.Fatalf("new device sending %s: %v", b, err)
	}
}

// receive reads the grant's next message and returns its type.
func (n *newDevice) receive(ctx context.Context) ([]byte, string, error) {
	raw, err := n.ch.Receive(ctx, vocab.PaceReply)
	if err != nil {
		return nil, "", err
	}
	typ, err := msc4108.TypeOf(raw)
	if err != nil {
		n.t.Fatalf("the grant sent %q", raw)
	}
	return raw, typ, nil
}

// expect reads the grant's next message and checks its type.
func (n *newDevice) expect(ctx context.Context, want string) []byte {
	n.t.Helper()
	raw, typ, err := n.receive(ctx)
	if err != nil {
		n.t.Fatalf("new device waiting for %s: %v", want, err)
	}
	if typ != want {
		n.t.Fatalf("new device got %s, want %s", raw, want)
	}
	return raw
}

// expectFailure reads the grant's next message, which must be
// m.login.failure with reason.
func (n *newDevice) expectFailure(ctx context.Context, reason string) {
	n.t.Helper()
	var f msc4108.Failure
	if err := json.Unmarshal(n.expect(ctx, msc4108.TypeFailure), &f); err != nil || f.Reason != reason {
		n.t.Fatalf("m.login.failure with reason %q, want %q", f.Reason, reason)
	}
}

// expectSilence checks that the grant sends nothing more and ends the
// rendezvous: the next receive fails instead of returning a message.
func (n *newDevice) expectSilence(ctx context.Context) {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	raw, _, err := n.receive(ctx)
	if err == nil {
		n.t.Fatalf("the grant sent %s, want nothing", raw)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		n.t.Fatal("the grant left the rendezvous in place; it should delete it")
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// scanned runs a grant and has the new device scan its first QR code,
// start its device authorization and send m.login.protocol before the
// code is typed (as matrix-js-sdk does); then the user types the code.
func scanned(t *testing.T, srv *devserver.Server, preference string, edit func(*login.GrantConfig), deviceID string) (context.Context, *grantRun, *newDevice) {
	t.Helper()
	ctx := testCtx(t)
	r := startGrant(ctx, t, srv, preference, edit)
	n := scanQR(ctx, t, srv, r.nextQR().Payload)
	n.startDeviceGrant(ctx, deviceID)
	n.send(ctx, n.protocol())
	r.typeCode(n.ch.CheckCode().String())
	return ctx, r, n
}

// TestGrantSignsInNewDevice walks the whole existing-device flow in both
// grantGenerations: the QR code (intent 0x01 / mode 0x04 naming the account's
// server), the check code, m.login.protocol read after the code was
// typed, the device-ID check, the consent page opened, protocol_accepted,
// m.login.success, the device check and m.login.secrets carrying exactly
// the account's keys; the secrets are zeroed afterwards.
func TestGrantSignsInNewDevice(t *testing.T) {
	for _, gen := range grantGenerations {
		t.Run(gen.name, func(t *testing.T) {
			srv := devServerWith(t, devserver.Config{VerificationURIComplete: true})
			// A rust-sdk style device ID, with "/" and "+": the device
			// checks must percent-encode it.
			ctx, r, n := scanned(t, srv, gen.preference, nil, "Ab/cd+ef0123456789")

			switch q := n.qr; q.Generation {
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
			if string(n.qr.Generation) != gen.preference {
				t.Fatalf("QR code of generation %s, want %s", n.qr.Generation, gen.preference)
			}

			n.expect(ctx, msc4108.TypeProtocolAccepted)
			if got := r.openedURIs(); !slices.Equal(got, []string{n.auth.VerificationURIComplete}) {
				t.Fatalf("opened %q, want verification_uri_complete %q", got, n.auth.VerificationURIComplete)
			}
			if err := srv.Approve(n.auth.UserCode); err != nil {
				t.Fatal(err)
			}
			if _, err := n.client.PollToken(ctx, n.auth); err != nil {
				t.Fatalf("token: %v", err)
			}
			n.send(ctx, msc4108.Simple{Type: msc4108.TypeSuccess})

			raw := n.expect(ctx, msc4108.TypeSecrets)
			got, err := matrix.ParseSecrets(raw)
			if err != nil {
				t.Fatalf("m.login.secrets does not parse: %v", err)
			}
			defer got.Zero()
			acct, err := srv.AccountSecrets()
			if err != nil {
				t.Fatal(err)
			}
			b64 := func(k *matrix.PrivateKey) string { return base64.RawStdEncoding.EncodeToString(k.Bytes()) }
			if b64(got.MasterKey) != acct.MasterKey.Reveal() || b64(got.SelfSigningKey) != acct.SelfSigningKey.Reveal() ||
				b64(got.UserSigningKey) != acct.UserSigningKey.Reveal() {
				t.Error("m.login.secrets carries other cross-signing keys than the account's")
			}
			if got.Backup == nil || b64(got.Backup.Key) != acct.BackupKey.Reveal() || got.Backup.Version != acct.BackupVersion {
				t.Error("m.login.secrets carries another backup than the account's")
			}
			var wire map[string]json.RawMessage
			if err := json.Unmarshal(raw, &wire); err != nil {
				t.Fatal(err)
			}
			var backup struct{ Algorithm string }
			_ = json.Unmarshal(wire["backup"], &backup)
			if backup.Algorithm != "m.megolm_backup.v1.curve25519-aes-sha2" {
				t.Errorf("backup algorithm %q", backup.Algorithm)
			}

			res, err := r.wait()
			if err != nil {
				t.Fatalf("grant: %v", err)
			}
			if res.DeviceID != n.id || !res.SecretsSent {
				t.Fatalf("result %+v, want device %s with secrets", res, n.id)
			}
			want := []string{"qr", "check_code_needed", "secure_channel_established", "verification_uri", "device_signed_in", "secrets_shared"}
			if got := r.names(); !slices.Equal(got, want) {
				t.Fatalf("events %v, want %v", got, want)
			}
			if v, _ := eventOf[login.VerificationURI](r); v.URI != n.auth.VerificationURIComplete || !v.Opened {
				t.Errorf("verification_uri event %+v", v)
			}
			if s, _ := eventOf[login.SecretsShared](r); !s.CrossSigning || !s.Backup {
				t.Errorf("secrets_shared event %+v", s)
			}
			for name, k := range map[string][]byte{"master": r.cfg.Secrets.MasterKey, "backup": r.cfg.Secrets.BackupKey} {
				if slices.ContainsFunc(k, func(b byte) bool { return b != 0 }) {
					t.Errorf("the %s key was not zeroed", name)
				}
			}
			// The rendezvous is deleted after the grace period.
			n.expectSilence(ctx)
		})
	}
}

// TestGrantWithoutVerifiedSecrets: an account that is not verified on this
// computer sends no m.login.secrets and says so.
func TestGrantWithoutVerifiedSecrets(t *testing.T) {
	srv := devServerWith(t, devserver.Config{})
	ctx, r, n := scanned(t, srv, "msc4388", func(c *login.GrantConfig) { c.Secrets = nil }, "")
	n.expect(ctx, msc4108.TypeProtocolAccepted)
	if err := srv.Approve(n.auth.UserCode); err != nil {
		t.Fatal(err)
	}
	if _, err := n.client.PollToken(ctx, n.auth); err != nil {
		t.Fatal(err)
	}
	n.send(ctx, msc4108.Simple{Type: msc4108.TypeSuccess})
	n.expectSilence(ctx)
	res, err := r.wait()
	if err != nil || res.SecretsSent || res.DeviceID != n.id {
		t.Fatalf("grant: %+v, %v; want device %s without secrets", res, err, n.id)
	}
	w, ok := eventOf[login.Warning](r)
	if !ok || w.Code != "secrets_not_shared" || !strings.Contains(w.Message, "not verified") {
		t.Fatalf("warning %+v, want secrets_not_shared", w)
	}
	if _, ok := eventOf[login.SecretsShared](r); ok {
		t.Fatal("secrets_shared emitted without secrets")
	}
}

// TestGrantDeviceAlreadyExists: a new device that announces a device ID
// already on the account hears device_already_exists, and no page opens
// (MSC4108 "4. Existing device checks device_id").
func TestGrantDeviceAlreadyExists(t *testing.T) {
	for _, gen := range grantGenerations {
		t.Run(gen.name, func(t *testing.T) {
			srv := devServerWith(t, devserver.Config{})
			ctx, r, n := scanned(t, srv, gen.preference, nil, desktopDeviceID)
			n.expectFailure(ctx, msc4108.ReasonDeviceAlreadyExists)
			if _, err := r.wait(); !errors.Is(err, login.ErrDeviceAlreadyExists) {
				t.Fatalf("grant: %v, want %v", err, login.ErrDeviceAlreadyExists)
			}
			if got := r.openedURIs(); len(got) != 0 {
				t.Fatalf("opened %q for a device that exists", got)
			}
		})
	}
}

// TestGrantDeviceCheckFails: when the homeserver cannot say whether the
// device exists, the new device hears device_already_exists (matrix-rust-
// sdk's rule), and this computer's caller gets the real cause.
func TestGrantDeviceCheckFails(t *testing.T) {
	srv := devServerWith(t, devserver.Config{})
	// The 2024 discovery and create need no token.
	ctx, r, n := scanned(t, srv, "msc4108-2024", func(c *login.GrantConfig) {
		c.AccessToken = func(context.Context) (string, error) { return "not-a-token", nil }
	}, "")
	n.expectFailure(ctx, msc4108.ReasonDeviceAlreadyExists)
	_, err := r.wait()
	var me *matrix.Error
	if !errors.As(err, &me) || me.Status != http.StatusUnauthorized || errors.Is(err, login.ErrDeviceAlreadyExists) {
		t.Fatalf("grant: %v, want the 401 from GET /devices", err)
	}
}

// TestGrantWrongCheckCode: a mistyped code ends the grant without a word
// on the untrusted channel, and deletes the rendezvous.
func TestGrantWrongCheckCode(t *testing.T) {
	for _, gen := range grantGenerations {
		t.Run(gen.name, func(t *testing.T) {
			srv := devServerWith(t, devserver.Config{})
			ctx := testCtx(t)
			r := startGrant(ctx, t, srv, gen.preference, nil)
			n := scanQR(ctx, t, srv, r.nextQR().Payload)
			n.startDeviceGrant(ctx, "")
			n.send(ctx, n.protocol())
			r.typeCode(fmt.Sprintf("%02d", (n.ch.CheckCode().Value()+1)%100))
			if _, err := r.wait(); !errors.Is(err, securechannel.ErrCheckCodeMismatch) {
				t.Fatalf("grant: %v, want %v", err, securechannel.ErrCheckCodeMismatch)
			}
			n.expectSilence(ctx)
			if got := r.names(); slices.Contains(got, "secure_channel_established") {
				t.Fatalf("events %v", got)
			}
		})
	}
}

// TestGrantRefusesProposal: m.login.protocol proposals the grant must not
// follow end it with the reason MSC4108 names, before any page opens.
func TestGrantRefusesProposal(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(*msc4108.Protocol)
		reason string
		want   error
	}{
		{"another protocol", func(p *msc4108.Protocol) { p.Protocol = "password" }, msc4108.ReasonUnsupportedProtocol, login.ErrUnsupportedProtocol},
		// MSC4108 "Malicious client sends arbitrary verification URI".
		{"plain http page", func(p *msc4108.Protocol) { p.DeviceGrant.VerificationURI = "http://consent.example.org/link" },
			msc4108.ReasonUnableToOpenVerificationURI, login.ErrUnsafeVerificationURI},
		{"other scheme", func(p *msc4108.Protocol) { p.DeviceGrant.VerificationURIComplete = "javascript:alert(1)" },
			msc4108.ReasonUnableToOpenVerificationURI, login.ErrUnsafeVerificationURI},
		{"no device ID", func(p *msc4108.Protocol) { p.DeviceID = "" }, msc4108.ReasonUnexpectedMessageReceived, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := devServerWith(t, devserver.Config{})
			ctx := testCtx(t)
			r := startGrant(ctx, t, srv, "msc4388", nil)
			n := scanQR(ctx, t, srv, r.nextQR().Payload)
			n.startDeviceGrant(ctx, "")
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

// TestGrantCannotOpenBrowser: a browser that cannot be started is
// unable_to_open_verification_uri (MSC4108 step 4).
func TestGrantCannotOpenBrowser(t *testing.T) {
	srv := devServerWith(t, devserver.Config{})
	ctx, r, n := scanned(t, srv, "msc4108-2024", func(c *login.GrantConfig) {
		c.OpenURI = func(string) error { return errors.New("no browser") }
	}, "")
	n.expectFailure(ctx, msc4108.ReasonUnableToOpenVerificationURI)
	if _, err := r.wait(); !errors.Is(err, login.ErrVerificationURI) || errors.Is(err, login.ErrUnsafeVerificationURI) {
		t.Fatalf("grant: %v", err)
	}
}

// TestGrantWithoutBrowser: with no way to open pages (the terminal), the
// grant says where the page is and goes on.
func TestGrantWithoutBrowser(t *testing.T) {
	srv := devServerWith(t, devserver.Config{})
	ctx, r, n := scanned(t, srv, "msc4388", func(c *login.GrantConfig) { c.OpenURI = nil }, "")
	n.expect(ctx, msc4108.TypeProtocolAccepted)
	if v, ok := eventOf[login.VerificationURI](r); !ok || v.URI != n.auth.VerificationURI || v.Opened {
		t.Fatalf("verification_uri event %+v (seen %v), want %s not opened", v, ok, n.auth.VerificationURI)
	}
	r.g.SwitchGeneration() // too late to matter
	n.send(ctx, msc4108.Failure{Type: msc4108.TypeFailure, Reason: msc4108.ReasonUserCancelled})
	if _, err := r.wait(); err == nil {
		t.Fatal("grant succeeded after the new device gave up")
	}
}

// TestGrantDenied: the user denies on the consent page; the new device
// ends the grant with m.login.declined (MSC4108 step 6) or, as
// matrix-js-sdk does, m.login.failure user_cancelled. Nothing is answered.
func TestGrantDenied(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  any
		want func(error) bool
	}{
		{"declined", msc4108.Simple{Type: msc4108.TypeDeclined}, func(err error) bool { return errors.Is(err, login.ErrDeclined) }},
		{"failure", msc4108.Failure{Type: msc4108.TypeFailure, Reason: msc4108.ReasonUserCancelled}, func(err error) bool {
			var pf *login.PhoneFailure
			return errors.As(err, &pf) && pf.Reason == msc4108.ReasonUserCancelled
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := devServerWith(t, devserver.Config{})
			ctx, r, n := scanned(t, srv, "msc4388", nil, "")
			n.expect(ctx, msc4108.TypeProtocolAccepted)
			if err := srv.Deny(n.auth.UserCode); err != nil {
				t.Fatal(err)
			}
			if _, err := n.client.PollToken(ctx, n.auth); !errors.Is(err, oauth.ErrAccessDenied) {
				t.Fatalf("token after denial: %v", err)
			}
			n.send(ctx, tc.msg)
			if _, err := r.wait(); !tc.want(err) {
				t.Fatalf("grant: %v", err)
			}
			n.expectSilence(ctx)
			if _, ok := eventOf[login.NewDeviceSignedIn](r); ok {
				t.Fatal("device_signed_in after a denial")
			}
		})
	}
}

// TestGrantDeviceNeverAppears: m.login.success from a device that is not
// on the account gets device_not_found, never the secrets (MSC4108 "1.
// Existing device confirms that the new device has indeed logged in").
func TestGrantDeviceNeverAppears(t *testing.T) {
	for _, gen := range grantGenerations {
		t.Run(gen.name, func(t *testing.T) {
			srv := devServerWith(t, devserver.Config{})
			ctx, r, n := scanned(t, srv, gen.preference, func(c *login.GrantConfig) { c.DeviceCreationTimeout = time.Second }, "")
			n.expect(ctx, msc4108.TypeProtocolAccepted)
			start := time.Now()
			n.send(ctx, msc4108.Simple{Type: msc4108.TypeSuccess}) // without approval: no token, no device
			n.expectFailure(ctx, msc4108.ReasonDeviceNotFound)
			if waited := time.Since(start); waited < time.Second {
				t.Errorf("device_not_found after %v, want the whole DeviceCreationTimeout (1 s)", waited)
			}
			res, err := r.wait()
			if !errors.Is(err, login.ErrDeviceNotFound) || res != nil {
				t.Fatalf("grant: %+v, %v", res, err)
			}
			if _, ok := eventOf[login.SecretsShared](r); ok {
				t.Fatal("secrets shared with a device that is not on the account")
			}
		})
	}
}

// TestGrantDeviceCheckAfterSignOut: when the account's token stops working
// while the new device signs in, the new device hears device_not_found and
// this computer's caller gets the 401 that explains it.
func TestGrantDeviceCheckAfterSignOut(t *testing.T) {
	srv := devServerWith(t, devserver.Config{})
	var signedOut sync.Mutex
	out := false
	ctx, r, n := scanned(t, srv, "msc4108-2024", func(c *login.GrantConfig) {
		c.DeviceCreationTimeout = time.Second
		token := c.AccessToken
		c.AccessToken = func(ctx context.Context) (string, error) {
			signedOut.Lock()
			defer signedOut.Unlock()
			if out {
				return "not-a-token", nil
			}
			return token(ctx)
		}
	}, "")
	n.expect(ctx, msc4108.TypeProtocolAccepted)
	signedOut.Lock()
	out = true
	signedOut.Unlock()
	n.send(ctx, msc4108.Simple{Type: msc4108.TypeSuccess})
	n.expectFailure(ctx, msc4108.ReasonDeviceNotFound)
	_, err := r.wait()
	var me *matrix.Error
	if !errors.Is(err, login.ErrDeviceNotFound) || !errors.As(err, &me) || me.Status != http.StatusUnauthorized {
		t.Fatalf("grant: %v, want device_not_found carrying the 401", err)
	}
}

// TestGrantCancelled: cancelling while the new device waits for consent
// ends the grant with ErrCancelled and deletes the rendezvous (it is the
// new device's turn, so nothing can be written); cancelling on our turn
// tells the new device user_cancelled.
func TestGrantCancelled(t *testing.T) {
	t.Run("waiting for consent", func(t *testing.T) {
		srv := devServerWith(t, devserver.Config{})
		_, r, n := scanned(t, srv, "msc4388", nil, "")
		ctx := testCtx(t)
		n.expect(ctx, msc4108.TypeProtocolAccepted)
		cancelRun(t, r)
		if _, err := r.wait(); !errors.Is(err, login.ErrCancelled) {
			t.Fatalf("grant: %v", err)
		}
		n.expectSilence(ctx)
	})
	t.Run("waiting for the device", func(t *testing.T) {
		srv := devServerWith(t, devserver.Config{})
		_, r, n := scanned(t, srv, "msc4108-2024", func(c *login.GrantConfig) { c.DeviceCreationTimeout = 20 * time.Second }, "")
		ctx := testCtx(t)
		n.expect(ctx, msc4108.TypeProtocolAccepted)
		n.send(ctx, msc4108.Simple{Type: msc4108.TypeSuccess})
		time.Sleep(300 * time.Millisecond) // the grant is polling /devices
		cancelRun(t, r)
		n.expectFailure(ctx, msc4108.ReasonUserCancelled)
		if _, err := r.wait(); !errors.Is(err, login.ErrCancelled) {
			t.Fatalf("grant: %v", err)
		}
	})
}

// cancelRun cancels the context a grantRun runs with, as the window's
// Cancel button does.
func cancelRun(_ *testing.T, r *grantRun) { r.cancel() }

// TestGrantFreshQRAfterExpiry: nobody scans before the rendezvous expires;
// the grant shows a fresh QR code (new session, new key) and keeps
// waiting, without asking for a check code.
func TestGrantFreshQRAfterExpiry(t *testing.T) {
	for _, gen := range grantGenerations {
		t.Run(gen.name, func(t *testing.T) {
			srv := devServerWith(t, devserver.Config{SessionTTL2024: 2 * time.Second, SessionTTLMSC4388: 2 * time.Second})
			ctx := testCtx(t)
			r := startGrant(ctx, t, srv, gen.preference, nil)
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
			cancelRun(t, r)
			if _, err := r.wait(); !errors.Is(err, login.ErrCancelled) {
				t.Fatalf("grant: %v", err)
			}
			if slices.Contains(r.names(), "check_code_needed") {
				t.Fatalf("events %v", r.names())
			}
		})
	}
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
	cancelRun(t, r)
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

// TestGrantSecretsRedacted: the secrets never print.
func TestGrantSecretsRedacted(t *testing.T) {
	s := login.GrantSecrets{MasterKey: []byte("0123456789abcdef0123456789abcdef")}
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s), fmt.Sprint(&s)} {
		if strings.Contains(out, "0123456789") || strings.Contains(out, "48 49") {
			t.Fatalf("printed %s", out)
		}
	}
}
