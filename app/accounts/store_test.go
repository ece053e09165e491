package accounts

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/harness"
)

// These tests use the real Secret Service (gnome-keyring inside
// dbus-run-session, started by scripts/with-test-session for `make test`).
// Outside such a session they skip (fail in `make test` and CI).
func realKeyring(t *testing.T) *Store {
	t.Helper()
	harness.RequireSecretService(t)
	service := fmt.Sprintf("io.github.qrlogin.QRLogin.test-%d-%s", os.Getpid(), t.Name())
	s := newWithService(OSKeyring{}, service, filepath.Join(t.TempDir(), "keyring.lock"))
	// Probe once so an unusable keyring fails loudly rather than later.
	if err := s.items.set("probe", "x"); err != nil {
		t.Fatalf("the Secret Service is not usable: %v", err)
	}
	_ = s.items.del("probe")
	return s
}

func sampleAccount(user string) *Account {
	return &Account{
		Meta: Meta{
			UserID: user, DeviceID: "ABCDEFGHIJ", Homeserver: "https://matrix.example.org",
			Issuer: "https://auth.example.org/", ClientID: "01CLIENT", TokenEndpoint: "https://auth.example.org/token",
			Verified: true, CrossSigning: true, Backup: true, BackupVersion: "1",
		},
		AccessToken:    "mat_access",
		RefreshToken:   "mar_refresh",
		OlmPickle:      Secret(strings.Repeat("p", 5000)), // > Windows' 2560-byte limit: stored in chunks
		OlmPickleKey:   "pk",
		MasterKey:      "mk",
		SelfSigningKey: "ssk",
		UserSigningKey: "usk",
		BackupKey:      "bk",
	}
}

func TestSaveLoadListDelete(t *testing.T) {
	s := realKeyring(t)
	a := sampleAccount("@alice:example.org")
	if _, err := s.Save(a); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Delete(a.UserID) })
	list, err := s.List()
	if err != nil || len(list) != 1 || list[0].UserID != a.UserID || list[0].Schema != SchemaVersion {
		t.Fatalf("List = %+v, %v", list, err)
	}
	got, err := s.Load(a.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if got.OlmPickle != a.OlmPickle || got.RefreshToken != a.RefreshToken || got.BackupKey != a.BackupKey || !got.Verified {
		t.Fatalf("Load did not return what was saved")
	}
	// Every stored item stays under the Windows limit.
	raw, err := s.items.b.Get(s.items.service, genItemName(a.UserID, 1, "olm_pickle"))
	if err != nil || !strings.HasPrefix(raw, chunkHeader) {
		t.Fatalf("large value not chunked: %q, %v", raw[:min(len(raw), 20)], err)
	}
	if err := s.Delete(a.UserID); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.List(); len(list) != 0 {
		t.Fatalf("still listed after Delete: %+v", list)
	}
	for _, c := range chunkFamilies {
		if _, err := s.items.get(c.name(genItemName(a.UserID, 1, "olm_pickle"), 0)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("chunk left behind: %v", err)
		}
	}
}

// failingBackend wraps the real keyring and fails the Nth Set.
type failingBackend struct {
	Backend
	failAt, n int
}

func (f *failingBackend) Set(service, user, value string) error {
	f.n++
	if f.n == f.failAt {
		return errors.New("simulated keyring failure")
	}
	return f.Backend.Set(service, user, value)
}

func TestHalfWrittenAccountIsNeverListed(t *testing.T) {
	base := realKeyring(t)
	for _, failAt := range []int{1, 3, 9, 12} {
		fb := &failingBackend{Backend: OSKeyring{}, failAt: failAt}
		s := newWithService(fb, base.items.service, base.lockPath)
		a := sampleAccount("@bob:example.org")
		_, err := s.Save(a)
		var unavailable *UnavailableError
		if !errors.As(err, &unavailable) {
			t.Fatalf("failAt %d: Save error = %v, want *UnavailableError", failAt, err)
		}
		if list, _ := base.List(); len(list) != 0 {
			t.Fatalf("failAt %d: half-written account listed: %+v", failAt, list)
		}
		if _, err := base.items.get(genItemName(a.UserID, 1, "access_token")); !errors.Is(err, ErrNotFound) {
			t.Fatalf("failAt %d: secret left behind after a failed save: %v", failAt, err)
		}
	}
}

func TestAccessTokenRefreshRotatesOnceUnderLock(t *testing.T) {
	s := realKeyring(t)
	a := sampleAccount("@carol:example.org")
	a.AccessExpiresAt = time.Now().Add(10 * time.Second) // inside the refresh margin
	if _, err := s.Save(a); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Delete(a.UserID) })

	var calls atomic.Int32
	refresher := func(ctx context.Context, m Meta, rt Secret) (Secret, Secret, time.Time, error) {
		if rt != "mar_refresh" {
			return "", "", time.Time{}, fmt.Errorf("spent refresh token reused")
		}
		calls.Add(1)
		time.Sleep(50 * time.Millisecond) // widen the race window
		return "mat_new", "mar_new", time.Now().Add(time.Hour), nil
	}
	// A second Store over the same lock file stands in for a second process.
	other := newWithService(OSKeyring{}, s.items.service, s.lockPath)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for _, st := range []*Store{s, other, s, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := st.AccessToken(context.Background(), a.UserID, refresher)
			if err == nil && tok != "mat_new" {
				err = fmt.Errorf("got an old access token")
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if calls.Load() != 1 {
		t.Fatalf("refresher called %d times, want 1", calls.Load())
	}
	got, _ := s.Load(a.UserID)
	if got.RefreshToken != "mar_new" {
		t.Fatal("rotated refresh token not stored")
	}
}

func TestSecretNeverPrints(t *testing.T) {
	a := sampleAccount("@dave:example.org")
	for _, out := range []string{fmt.Sprint(a.AccessToken), fmt.Sprintf("%v %+v %#v", a, a, a), fmt.Sprintf("%d %x %q %s", a.AccessToken, a.RefreshToken, a.AccessToken, a.RefreshToken)} {
		if strings.Contains(out, "mat_access") || strings.Contains(out, "mar_refresh") {
			t.Fatalf("secret printed: %s", out)
		}
	}
}

// TestNoSecretServiceIsAClearError runs the real go-keyring in a child
// process whose session bus address points nowhere.
func TestNoSecretServiceIsAClearError(t *testing.T) {
	if os.Getenv("QRLOGIN_KEYRING_CHILD") == "1" {
		s := newWithService(OSKeyring{}, "io.github.qrlogin.QRLogin.test-nobus", filepath.Join(os.TempDir(), "qrlogin-nobus.lock"))
		_, err := s.Save(sampleAccount("@erin:example.org"))
		var unavailable *UnavailableError
		if !errors.As(err, &unavailable) {
			fmt.Printf("WRONG %v\n", err)
			os.Exit(1)
		}
		fmt.Printf("OK %s\n", err)
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoSecretServiceIsAClearError$")
	cmd.Env = append(os.Environ(), "QRLOGIN_KEYRING_CHILD=1",
		"DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/qrlogin-test-bus", "PATH=/nonexistent")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK ") || !strings.Contains(string(out), "gnome-keyring") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func TestShorterValueLeavesNoOldChunks(t *testing.T) {
	s := realKeyring(t)
	name := "account:@frank:example.org:olm_pickle"
	if err := s.items.set(name, strings.Repeat("a", 5000)); err != nil { // three chunks
		t.Fatal(err)
	}
	if err := s.items.set(name, "short"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.items.del(name) })
	if got, err := s.items.get(name); err != nil || got != "short" {
		t.Fatalf("get = %q, %v", got, err)
	}
	for _, c := range chunkFamilies {
		for i := range 3 {
			if _, err := s.items.b.Get(s.items.service, c.name(name, i)); !errors.Is(classify(err), ErrNotFound) {
				t.Fatalf("chunk %d of the old value is still stored (%v)", i, err)
			}
		}
	}
}

func TestRemoveRevokesTheCurrentTokensThenDeletes(t *testing.T) {
	s := realKeyring(t)
	a := sampleAccount("@grace:example.org")
	if _, err := s.Save(a); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Delete(a.UserID) })
	failing := func(m Meta, access, refresh Secret) error { return errors.New("server unreachable") }
	if err := s.Remove(a.UserID, failing); err == nil {
		t.Fatal("Remove succeeded although revoking failed")
	}
	if list, _ := s.List(); len(list) != 1 {
		t.Fatal("a failed revocation removed the account")
	}
	var got [2]Secret
	if err := s.Remove(a.UserID, func(m Meta, access, refresh Secret) error {
		got = [2]Secret{access, refresh}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got != [2]Secret{a.AccessToken, a.RefreshToken} {
		t.Fatal("revoke did not receive the stored tokens")
	}
	if list, _ := s.List(); len(list) != 0 {
		t.Fatal("account still listed after Remove")
	}
	if err := s.Remove(a.UserID, failing); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Remove of a removed account: %v, want ErrNotFound", err)
	}
}

// TestSecondSignInReplacesTheFirst on the real Secret Service: the second
// sign-in of a user is read back whole, the first one's tokens come back
// for revocation, and removing the account leaves no item of either.
func TestSecondSignInReplacesTheFirst(t *testing.T) {
	s := realKeyring(t)
	old, neu := oldAndNew()
	if _, err := s.Save(old); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Delete(old.UserID) })
	replaced, err := s.Save(neu)
	if err != nil {
		t.Fatal(err)
	}
	if replaced == nil || replaced.DeviceID != old.DeviceID || replaced.RefreshToken != old.RefreshToken {
		t.Fatalf("replaced = %+v", replaced)
	}
	got, err := s.Load(neu.UserID)
	if err != nil || describe(got) != describe(neu) {
		t.Fatalf("Load: %v\n%s", err, describe(got))
	}
	if err := s.Delete(neu.UserID); err != nil {
		t.Fatal(err)
	}
	for gen := range 4 {
		for _, f := range neu.secretFields() {
			name := genItemName(neu.UserID, gen, f.name)
			for _, item := range []string{name, chunkFamilies[0].name(name, 0), chunkFamilies[1].name(name, 0), chunkFamilies[2].name(name, 0)} {
				if _, err := s.items.b.Get(s.items.service, item); !errors.Is(classify(err), ErrNotFound) {
					t.Errorf("item %q left behind (%v)", item, err)
				}
			}
		}
	}
}

// TestDeleteWithDamagedMetaOnTheRealKeyring: on the real Secret Service,
// removing an account saved twice whose meta item is damaged leaves none of
// its items, and the probing for earlier writers' generations stays quick.
func TestDeleteWithDamagedMetaOnTheRealKeyring(t *testing.T) {
	s := realKeyring(t)
	old, neu := oldAndNew()
	for _, a := range []*Account{old, neu} {
		if _, err := s.Save(a); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = s.Delete(neu.UserID) })
	if err := s.items.b.Set(s.items.service, itemName(neu.UserID, "meta"), "{damaged"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := s.Delete(neu.UserID); err != nil {
		t.Fatal(err)
	}
	t.Logf("Delete with a damaged meta item took %v", time.Since(start))
	for gen := range 4 {
		for _, f := range neu.secretFields() {
			name := genItemName(neu.UserID, gen, f.name)
			if _, err := s.items.b.Get(s.items.service, name); !errors.Is(classify(err), ErrNotFound) {
				t.Errorf("item %q left behind (%v)", name, err)
			}
		}
	}
}
