package signin

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/app/accounts"
	"github.com/qrlogin/qrlogin/app/config"
	"github.com/qrlogin/qrlogin/internal/identity"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/matrix"
	"github.com/qrlogin/qrlogin/protocol/oauth"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

const carol = "@carol:example.org"

// key is a recognisable 32-byte key.
func key(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func b64(b []byte) accounts.Secret { return accounts.Secret(base64.RawStdEncoding.EncodeToString(b)) }

// storeWith is a real account store (in memory) holding a.
func storeWith(t *testing.T, a *accounts.Account) *accounts.Store {
	t.Helper()
	store := accounts.New(accounts.NewMemoryKeyring(), filepath.Join(t.TempDir(), "keyring.lock"))
	if _, err := store.Save(a); err != nil {
		t.Fatal(err)
	}
	return store
}

func verifiedCarol(homeserver string) *accounts.Account {
	return &accounts.Account{
		Meta: accounts.Meta{UserID: carol, DeviceID: "DESKTOP", Homeserver: homeserver, ClientID: "01CLIENT",
			Verified: true, CrossSigning: true, Backup: true, BackupVersion: "7"},
		AccessToken: "mat_carol", RefreshToken: "mar_carol",
		MasterKey: b64(key(1)), SelfSigningKey: b64(key(2)), UserSigningKey: b64(key(3)), BackupKey: b64(key(4)),
	}
}

// fakeGrant stands in for login.Grant, whose Run is not built yet on this
// branch (it returns a stub error): it records the configuration it was
// given, calls the access token function as the flow would, emits events
// and returns result. TestGrantWithTheRealFlowReportsItsFailure runs the
// real one.
type fakeGrant struct {
	mu      sync.Mutex
	cfg     login.GrantConfig
	emit    func(login.Event)
	token   string
	tokErr  error
	secrets login.GrantSecrets // copies, taken while Run runs
	codes   []string
	result  *login.GrantResult
	err     error
	running chan struct{} // closed when Run starts
	finish  chan struct{} // Run returns once closed
}

func (f *fakeGrant) SubmitCheckCode(code string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.codes = append(f.codes, code)
	return true
}

func (f *fakeGrant) SwitchGeneration() {}

func (f *fakeGrant) Run(ctx context.Context) (*login.GrantResult, error) {
	f.mu.Lock()
	f.token, f.tokErr = f.cfg.AccessToken(ctx)
	if s := f.cfg.Secrets; s != nil {
		f.secrets = login.GrantSecrets{MasterKey: bytes.Clone(s.MasterKey), SelfSigningKey: bytes.Clone(s.SelfSigningKey),
			UserSigningKey: bytes.Clone(s.UserSigningKey), BackupKey: bytes.Clone(s.BackupKey), BackupVersion: s.BackupVersion}
	}
	f.mu.Unlock()
	close(f.running)
	f.emit(login.NewDeviceSignedIn{DeviceID: "NEWPHONE"})
	if f.cfg.Secrets == nil {
		// As login.Grant does when it is given no keys.
		f.emit(login.Warning{Code: "secrets_not_shared", Message: "not verified"})
	}
	select {
	case <-f.finish:
	case <-ctx.Done():
		return nil, login.ErrCancelled
	}
	return f.result, f.err
}

// withFakeGrant replaces the flow for one test.
func withFakeGrant(t *testing.T, f *fakeGrant) {
	t.Helper()
	if f.running == nil {
		f.running = make(chan struct{})
	}
	if f.finish == nil {
		f.finish = make(chan struct{})
		close(f.finish)
	}
	old := newGrant
	newGrant = func(cfg login.GrantConfig, emit func(login.Event)) grantRunner {
		f.mu.Lock()
		f.cfg, f.emit = cfg, emit
		f.mu.Unlock()
		return f
	}
	t.Cleanup(func() { newGrant = old })
}

// events collects what a controller emits.
type events struct {
	mu   sync.Mutex
	list []login.Event
}

func (e *events) emit(ev login.Event) { e.mu.Lock(); e.list = append(e.list, ev); e.mu.Unlock() }

func (e *events) all() []login.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]login.Event(nil), e.list...)
}

// TestGrantGivesTheFlowTheVerifiedAccountsKeys: a verified account's
// stored keys reach the flow decoded, with the settings and the account,
// are wiped when the grant ends, and the grant ends with GrantDone naming
// the new device.
func TestGrantGivesTheFlowTheVerifiedAccountsKeys(t *testing.T) {
	store := storeWith(t, verifiedCarol("https://matrix.example.org"))
	f := &fakeGrant{result: &login.GrantResult{DeviceID: "NEWPHONE", SecretsSent: true}}
	withFakeGrant(t, f)
	var ev events
	cfg := GrantFlowConfig(config.Settings{Protocol: config.Protocol2024, MSC4388Variant: "msc-text", RendezvousServer: "https://rv.example.org", PollSpeed: config.PollGentle})
	c := StartGrant(context.Background(), carol, cfg, store, ev.emit)
	res, err := c.Wait()
	if err != nil || res.DeviceID != "NEWPHONE" {
		t.Fatalf("Wait: %+v, %v", res, err)
	}
	if f.cfg.UserID != carol || f.cfg.Homeserver != "https://matrix.example.org" || f.cfg.Preference != config.Protocol2024 ||
		f.cfg.Variant != vocab.VariantMSCText || f.cfg.RendezvousServer != "https://rv.example.org" || f.cfg.Poll.Human != 2*time.Second {
		t.Fatalf("the flow was given %+v", f.cfg)
	}
	if f.token != "mat_carol" || f.tokErr != nil {
		t.Fatalf("access token %q, %v", f.token, f.tokErr)
	}
	s := f.secrets
	if !bytes.Equal(s.MasterKey, key(1)) || !bytes.Equal(s.SelfSigningKey, key(2)) || !bytes.Equal(s.UserSigningKey, key(3)) ||
		!bytes.Equal(s.BackupKey, key(4)) || s.BackupVersion != "7" {
		t.Fatalf("the flow was given the wrong keys (backup version %q)", s.BackupVersion)
	}
	for i, b := range [][]byte{f.cfg.Secrets.MasterKey, f.cfg.Secrets.SelfSigningKey, f.cfg.Secrets.UserSigningKey, f.cfg.Secrets.BackupKey} {
		if !bytes.Equal(b, make([]byte, 32)) {
			t.Errorf("key %d was not wiped after the grant", i)
		}
	}
	got := ev.all()
	if len(got) != 2 || got[0] != (login.NewDeviceSignedIn{DeviceID: "NEWPHONE"}) ||
		got[1] != (GrantDone{UserID: carol, DeviceID: "NEWPHONE", SecretsSent: true}) {
		t.Fatalf("events %#v", got)
	}
	if got[1].Name() != "done" {
		t.Fatalf("GrantDone is called %q, want done as a sign-in's", got[1].Name())
	}
}

// TestGrantOfUnverifiedAccountSendsNoKeys: keys stored for an account that
// is not verified here are not given to the flow at all.
func TestGrantOfUnverifiedAccountSendsNoKeys(t *testing.T) {
	a := verifiedCarol("https://matrix.example.org")
	a.Verified = false
	store := storeWith(t, a)
	f := &fakeGrant{result: &login.GrantResult{DeviceID: "NEWPHONE"}}
	withFakeGrant(t, f)
	c := StartGrant(context.Background(), carol, login.GrantConfig{}, store, func(login.Event) {})
	if _, err := c.Wait(); err != nil {
		t.Fatal(err)
	}
	if f.cfg.Secrets != nil {
		t.Fatal("an unverified account's keys were given to the flow")
	}
}

// TestGrantWithDamagedStoredKeysWarnsAndSendsNone: a stored seed that is
// not a 32-byte key is reported as a warning, and no key is sent.
func TestGrantWithDamagedStoredKeysWarnsAndSendsNone(t *testing.T) {
	a := verifiedCarol("https://matrix.example.org")
	a.UserSigningKey = b64(key(3)[:16])
	store := storeWith(t, a)
	f := &fakeGrant{result: &login.GrantResult{DeviceID: "NEWPHONE"}}
	withFakeGrant(t, f)
	var ev events
	if _, err := StartGrant(context.Background(), carol, login.GrantConfig{}, store, ev.emit).Wait(); err != nil {
		t.Fatal(err)
	}
	if f.cfg.Secrets != nil {
		t.Fatal("keys were given to the flow although one is damaged")
	}
	w, ok := ev.all()[0].(login.Warning)
	if !ok || w.Code != WarningStoredKeysDamaged {
		t.Fatalf("first event %#v, want the %s warning", ev.all()[0], WarningStoredKeysDamaged)
	}
}

// TestGrantRefreshesAnExpiredAccessToken: the flow's access token comes
// from the store, which refreshes an expired one at the token endpoint and
// keeps the rotated refresh token.
func TestGrantRefreshesAnExpiredAccessToken(t *testing.T) {
	tokenEndpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ParseForm() != nil || r.PostForm.Get("grant_type") != "refresh_token" || r.PostForm.Get("refresh_token") != "mar_carol" {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "mat_fresh", "refresh_token": "mar_fresh", "token_type": "Bearer", "expires_in": 300})
	}))
	t.Cleanup(tokenEndpoint.Close)
	a := verifiedCarol("https://matrix.example.org")
	a.TokenEndpoint = tokenEndpoint.URL + "/token"
	a.AccessExpiresAt = time.Now().Add(-time.Minute)
	store := storeWith(t, a)
	f := &fakeGrant{result: &login.GrantResult{DeviceID: "NEWPHONE"}}
	withFakeGrant(t, f)
	if _, err := StartGrant(context.Background(), carol, login.GrantConfig{}, store, func(login.Event) {}).Wait(); err != nil {
		t.Fatal(err)
	}
	if f.token != "mat_fresh" || f.tokErr != nil {
		t.Fatalf("the flow got access token %q, %v; want the refreshed one", f.token, f.tokErr)
	}
	stored, err := store.Load(carol)
	if err != nil || stored.RefreshToken.Reveal() != "mar_fresh" {
		t.Fatalf("the rotated refresh token was not kept: %v", err)
	}
}

// TestGrantOfAnAccountNotHereFails: no flow starts, and the failure is a
// *GrantError around accounts.ErrNotFound.
func TestGrantOfAnAccountNotHereFails(t *testing.T) {
	store := storeWith(t, verifiedCarol("https://matrix.example.org"))
	f := &fakeGrant{}
	withFakeGrant(t, f)
	var ev events
	_, err := StartGrant(context.Background(), "@nobody:example.org", login.GrantConfig{}, store, ev.emit).Wait()
	var ge *GrantError
	if !errors.As(err, &ge) || !errors.Is(err, accounts.ErrNotFound) {
		t.Fatalf("error %v, want a *GrantError around ErrNotFound", err)
	}
	if f.emit != nil {
		t.Fatal("a flow was started")
	}
	if got := ev.all(); len(got) != 1 || got[0].(login.Failed).Err != err {
		t.Fatalf("events %#v", got)
	}
}

// TestGrantCheckCodeAndCancelReachTheFlow: the typed code goes to the
// running flow, and Cancel ends it with ErrCancelled.
func TestGrantCheckCodeAndCancelReachTheFlow(t *testing.T) {
	store := storeWith(t, verifiedCarol("https://matrix.example.org"))
	f := &fakeGrant{finish: make(chan struct{})}
	withFakeGrant(t, f)
	c := StartGrant(context.Background(), carol, login.GrantConfig{}, store, func(login.Event) {})
	<-f.running
	if !c.SubmitCheckCode("42") {
		t.Fatal("the code was not taken")
	}
	c.Cancel()
	if _, err := c.Wait(); !errors.Is(err, login.ErrCancelled) {
		t.Fatalf("Wait after Cancel: %v", err)
	}
	if len(f.codes) != 1 || f.codes[0] != "42" {
		t.Fatalf("the flow got codes %q", f.codes)
	}
	if err := c.WaitTimeout(time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestGrantWithTheRealFlowReportsItsFailure runs login.Grant itself
// against an account whose homeserver is a closed port on 127.0.0.1: the
// grant ends with one Failed event whose error is a *GrantError, and Wait
// returns the same error.
func TestGrantWithTheRealFlowReportsItsFailure(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	_ = l.Close()
	store := storeWith(t, verifiedCarol(closed))
	var ev events
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := GrantFlowConfig(config.Settings{}.Defaults())
	cfg.HTTP = &http.Client{Timeout: 5 * time.Second}
	_, err = StartGrant(ctx, carol, cfg, store, ev.emit).Wait()
	var ge *GrantError
	if !errors.As(err, &ge) || ge.UserID != carol {
		t.Fatalf("error %v, want a *GrantError", err)
	}
	got := ev.all()
	if len(got) == 0 {
		t.Fatal("no events")
	}
	if last, ok := got[len(got)-1].(login.Failed); !ok || last.Err != err {
		t.Fatalf("last event %#v, want Failed with Wait's error", got[len(got)-1])
	}
	for _, e := range got[:len(got)-1] {
		if _, ok := e.(login.Failed); ok {
			t.Fatalf("more than one Failed: %#v", got)
		}
	}
}

// storeIn is storeWith over a keyring the test can reach into.
func storeIn(t *testing.T, a *accounts.Account) (*accounts.Store, *accounts.MemoryKeyring) {
	t.Helper()
	mem := accounts.NewMemoryKeyring()
	store := accounts.New(mem, filepath.Join(t.TempDir(), "keyring.lock"))
	if _, err := store.Save(a); err != nil {
		t.Fatal(err)
	}
	return store, mem
}

// warnings lists the codes of the warnings among evs.
func warnings(evs []login.Event) []string {
	var out []string
	for _, e := range evs {
		if w, ok := e.(login.Warning); ok {
			out = append(out, w.Code)
		}
	}
	return out
}

// TestGrantWithADamagedKeyItemWarnsAndGoesOn: a key item of the account
// that the keyring reports damaged does not end the grant: the new device
// is signed in without keys, the one warning says why (not the flow's "not
// verified" as well), and GrantDone gives that reason. A damaged item the
// grant does not need (the Olm account) changes nothing.
func TestGrantWithADamagedKeyItemWarnsAndGoesOn(t *testing.T) {
	for _, c := range []struct {
		item     string
		warnings []string
		sent     bool
	}{
		{"master_key", []string{WarningStoredKeysDamaged}, false},
		{"backup_key", []string{WarningStoredKeysDamaged}, false},
		{"olm_pickle", nil, true},
	} {
		t.Run(c.item, func(t *testing.T) {
			a := verifiedCarol("https://matrix.example.org")
			a.OlmPickle, a.OlmPickleKey = "pickle", "pk"
			store, mem := storeIn(t, a)
			// A header whose chunk is missing: the keyring holds the item,
			// but it does not read back (accounts.CorruptError).
			if err := mem.Set(identity.AppID, "account:"+carol+":g1:"+c.item, "qrlogin-chunks2:a:1:44:0123456789abcdef"); err != nil {
				t.Fatal(err)
			}
			f := &fakeGrant{result: &login.GrantResult{DeviceID: "NEWPHONE", SecretsSent: c.sent}}
			withFakeGrant(t, f)
			var ev events
			if _, err := StartGrant(context.Background(), carol, login.GrantConfig{}, store, ev.emit).Wait(); err != nil {
				t.Fatalf("the grant failed: %v", err)
			}
			if (f.cfg.Secrets != nil) != c.sent {
				t.Fatalf("keys given to the flow: %v, want %v", f.cfg.Secrets != nil, c.sent)
			}
			got := ev.all()
			if w := warnings(got); !slices.Equal(w, c.warnings) {
				t.Fatalf("warnings %q, want %q", w, c.warnings)
			}
			done, ok := got[len(got)-1].(GrantDone)
			want := ""
			if !c.sent {
				want = WarningStoredKeysDamaged
			}
			if !ok || done.KeysNotSent != want {
				t.Fatalf("last event %#v, want GrantDone with KeysNotSent %q", got[len(got)-1], want)
			}
		})
	}
}

// TestGrantDoneSaysWhyNoKeysWereSent: an account not verified here sends
// no keys, and GrantDone says so with the flow's warning code; a grant
// that sent them gives no reason.
func TestGrantDoneSaysWhyNoKeysWereSent(t *testing.T) {
	a := verifiedCarol("https://matrix.example.org")
	a.Verified = false
	f := &fakeGrant{result: &login.GrantResult{DeviceID: "NEWPHONE"}}
	withFakeGrant(t, f)
	var ev events
	if _, err := StartGrant(context.Background(), carol, login.GrantConfig{}, storeWith(t, a), ev.emit).Wait(); err != nil {
		t.Fatal(err)
	}
	got := ev.all()
	if w := warnings(got); !slices.Equal(w, []string{login.WarningSecretsNotShared}) {
		t.Fatalf("warnings %q", w)
	}
	if done := got[len(got)-1].(GrantDone); done.KeysNotSent != login.WarningSecretsNotShared {
		t.Fatalf("GrantDone %#v", done)
	}
}

// TestGrantRecognisesAnEndedSession: the server refusing this computer's
// session of the account (a 401 to a request made with its access token,
// a refresh token it no longer accepts) ends the grant with
// ErrSessionEnded. A separate rendezvous server that wants a signed-in
// device never saw the token: that is not it.
func TestGrantRecognisesAnEndedSession(t *testing.T) {
	needsAccount := &rendezvous.HTTPError{Status: http.StatusUnauthorized, Kind: rendezvous.ErrNeedsAccount}
	for _, c := range []struct {
		name       string
		rendezvous string
		err        error
		ended      bool
	}{
		{"rendezvous create 401", "", fmt.Errorf("create: %w", needsAccount), true},
		{"discovery says signed-in devices only", "", &rendezvous.UnsupportedError{Server: "x.org", NeedsAccount: true}, true},
		{"separate rendezvous server", "https://rv.example.org", fmt.Errorf("create: %w", needsAccount), false},
		{"refresh refused", "", fmt.Errorf("login: the account's access token: %w", &oauth.Error{Endpoint: "token", Status: 400, Code: "invalid_grant"}), true},
		{"device check 401", "", fmt.Errorf("login: could not check that the new device's ID is unused: %w", &matrix.Error{Status: 401, Errcode: "M_UNKNOWN_TOKEN"}), true},
		{"device check 500", "", fmt.Errorf("login: could not check: %w", &matrix.Error{Status: 500}), false},
		{"token endpoint down", "", fmt.Errorf("login: the account's access token: %w", &oauth.Error{Endpoint: "token", Status: 503}), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			store := storeWith(t, verifiedCarol("https://matrix.example.org"))
			withFakeGrant(t, &fakeGrant{err: c.err})
			_, err := StartGrant(context.Background(), carol, login.GrantConfig{RendezvousServer: c.rendezvous}, store, func(login.Event) {}).Wait()
			if errors.Is(err, ErrSessionEnded) != c.ended {
				t.Fatalf("error %v: session ended %v, want %v", err, errors.Is(err, ErrSessionEnded), c.ended)
			}
			if !errors.Is(err, c.err) {
				t.Fatalf("the cause is lost: %v", err)
			}
		})
	}
}
