package signin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/app/accounts"
	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/internal/devserver/devservertest"
	"github.com/qrlogin/qrlogin/internal/phone"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/oauth"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
)

// revocationServer is an OAuth revocation endpoint (RFC 7009) on
// 127.0.0.1 that records the tokens it is asked to revoke and answers
// with status.
type revocationServer struct {
	*httptest.Server
	mu      sync.Mutex
	status  int
	revoked []string
}

func newRevocationServer(t *testing.T) *revocationServer {
	t.Helper()
	rs := &revocationServer{status: http.StatusOK}
	rs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/revoke" || r.ParseForm() != nil {
			http.NotFound(w, r)
			return
		}
		rs.mu.Lock()
		defer rs.mu.Unlock()
		if rs.status == http.StatusOK {
			rs.revoked = append(rs.revoked, r.PostForm.Get("token"))
		}
		w.WriteHeader(rs.status)
	}))
	t.Cleanup(rs.Close)
	return rs
}

func (rs *revocationServer) revokedTokens() []string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return slices.Clone(rs.revoked)
}

const bob = "@bob:example.org"

// storeWithEarlierSignIn is a real account store (in memory) holding an
// earlier sign-in of bob, whose session the server at endpoint can end.
func storeWithEarlierSignIn(t *testing.T, endpoint string) *accounts.Store {
	t.Helper()
	store := accounts.New(accounts.NewMemoryKeyring(), filepath.Join(t.TempDir(), "keyring.lock"))
	if _, err := store.Save(&accounts.Account{
		Meta: accounts.Meta{UserID: bob, DeviceID: "OLDDEVICE", Homeserver: "https://matrix.example.org",
			Issuer: "https://auth.example.org/", ClientID: "01CLIENT", TokenEndpoint: endpoint + "/token", RevocationEndpoint: endpoint + "/revoke"},
		AccessToken: "mat_old", RefreshToken: "mar_old", OlmPickle: "old-pickle", OlmPickleKey: "old-key",
	}); err != nil {
		t.Fatal(err)
	}
	return store
}

// secondSignIn is what the flow hands back when bob signs in again.
func secondSignIn(endpoint, device string) *login.Result {
	return &login.Result{
		UserID: bob, DeviceID: device, Homeserver: "https://matrix.example.org",
		Metadata: &oauth.Metadata{Issuer: "https://auth.example.org/", TokenEndpoint: endpoint + "/token", RevocationEndpoint: endpoint + "/revoke"},
		ClientID: "01CLIENT",
		Token:    oauth.Token{AccessToken: "mat_new", RefreshToken: "mar_new"},
	}
}

type recorder struct{ events []login.Event }

func (r *recorder) emit(ev login.Event) { r.events = append(r.events, ev) }

func (r *recorder) warnings() []login.Warning {
	var out []login.Warning
	for _, ev := range r.events {
		if w, ok := ev.(login.Warning); ok {
			out = append(out, w)
		}
	}
	return out
}

func (r *recorder) endsWithDone(t *testing.T) {
	t.Helper()
	if len(r.events) == 0 {
		t.Fatal("no events")
	}
	if _, ok := r.events[len(r.events)-1].(login.Done); !ok {
		t.Fatalf("last event %#v, want Done", r.events[len(r.events)-1])
	}
}

func wantStored(t *testing.T, store *accounts.Store, device string, access accounts.Secret) {
	t.Helper()
	a, err := store.Load(bob)
	if err != nil || a.DeviceID != device || a.AccessToken != access {
		t.Fatalf("stored: %v, %+v", err, a)
	}
}

// TestSigningInAgainEndsTheEarlierSession: a second sign-in as a stored
// user replaces the stored account, and the earlier device's session is
// then ended at the server with the tokens that were stored (refresh token
// first: it ends the whole session).
func TestSigningInAgainEndsTheEarlierSession(t *testing.T) {
	rs := newRevocationServer(t)
	store := storeWithEarlierSignIn(t, rs.URL)
	var rec recorder
	if err := keep(context.Background(), store, secondSignIn(rs.URL, "NEWDEVICE"), rec.emit); err != nil {
		t.Fatal(err)
	}
	rec.endsWithDone(t)
	wantStored(t, store, "NEWDEVICE", "mat_new")
	if got := rs.revokedTokens(); !slices.Equal(got, []string{"mar_old", "mat_old"}) {
		t.Fatalf("revoked %q, want the earlier sign-in's refresh and access tokens", got)
	}
	if w := rec.warnings(); len(w) != 0 {
		t.Fatalf("warnings %+v", w)
	}
}

// TestEarlierSessionThatCannotBeEndedIsAWarning: when the server does not
// end the earlier session, the new sign-in is still kept and the user is
// told the old device remains.
func TestEarlierSessionThatCannotBeEndedIsAWarning(t *testing.T) {
	rs := newRevocationServer(t)
	rs.status = http.StatusServiceUnavailable
	store := storeWithEarlierSignIn(t, rs.URL)
	var rec recorder
	if err := keep(context.Background(), store, secondSignIn(rs.URL, "NEWDEVICE"), rec.emit); err != nil {
		t.Fatalf("the new sign-in failed because the old one could not be ended: %v", err)
	}
	rec.endsWithDone(t)
	wantStored(t, store, "NEWDEVICE", "mat_new")
	w := rec.warnings()
	if len(w) != 1 || w[0].Code != WarningEarlierDeviceKept {
		t.Fatalf("warnings %+v, want one %s", w, WarningEarlierDeviceKept)
	}
}

// TestSameDeviceIsNotRevoked: if the server handed out the same device ID
// again, ending the "earlier" session would end the new one's device.
func TestSameDeviceIsNotRevoked(t *testing.T) {
	rs := newRevocationServer(t)
	store := storeWithEarlierSignIn(t, rs.URL)
	var rec recorder
	if err := keep(context.Background(), store, secondSignIn(rs.URL, "OLDDEVICE"), rec.emit); err != nil {
		t.Fatal(err)
	}
	rec.endsWithDone(t)
	if got := rs.revokedTokens(); len(got) != 0 {
		t.Fatalf("revoked %q", got)
	}
}

// TestSecondSignInThroughTheFlowRemovesTheFirstDevice runs two whole
// sign-ins of the same user against the development homeserver with the
// scripted phone: afterwards the store holds the second, and the first
// device is gone from the account (its session was ended at the server).
func TestSecondSignInThroughTheFlowRemovesTheFirstDevice(t *testing.T) {
	srv := devservertest.Start(t, devserver.Config{PollInterval: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store := accounts.New(accounts.NewMemoryKeyring(), filepath.Join(t.TempDir(), "keyring.lock"))
	poll := rendezvous.PollConfig{Reply: 50 * time.Millisecond, Human: 100 * time.Millisecond}
	signIn := func() (string, []login.Warning) {
		t.Helper()
		qrs, codes := make(chan []byte, 4), make(chan string, 1)
		var rec recorder
		var mu sync.Mutex
		var ctrl *Controller
		ready := make(chan struct{})
		ctrl = Start(ctx, login.Config{Homeserver: srv.URL(), Preference: "msc4388", Poll: poll}, store, func(ev login.Event) {
			mu.Lock()
			rec.emit(ev)
			mu.Unlock()
			switch e := ev.(type) {
			case login.QRReady:
				qrs <- e.Payload
			case login.CheckCodeNeeded:
				go func() { <-ready; ctrl.SubmitCheckCode(<-codes) }()
			}
		})
		close(ready)
		if _, err := phone.Run(ctx, phone.Config{Homeserver: srv, Poll: poll, OnCheckCode: func(c string) { codes <- c }}, <-qrs); err != nil {
			t.Fatalf("phone: %v", err)
		}
		res, err := ctrl.Wait()
		if err != nil {
			t.Fatalf("sign-in: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		return res.DeviceID, rec.warnings()
	}
	first, _ := signIn()
	second, warnings := signIn()
	if first == second {
		t.Fatalf("both sign-ins got device %s", first)
	}
	if len(warnings) != 0 {
		t.Fatalf("warnings %+v", warnings)
	}
	if _, ok := srv.Device(first); ok {
		t.Fatalf("the first sign-in's device %s is still on the account", first)
	}
	if _, ok := srv.Device(second); !ok {
		t.Fatalf("the second sign-in's device %s is gone", second)
	}
	if a, err := store.Load(srv.UserID()); err != nil || a.DeviceID != second {
		t.Fatalf("stored %+v, %v", a, err)
	}
}
