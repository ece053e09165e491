package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/qrlogin/qrlogin/app/accounts"
)

// listStore stands in for the keyring store in these tests of the command
// line's account selection only; the store itself is tested against the
// real Secret Service in app/accounts, and these commands end to end in
// test/e2e.
type listStore struct {
	metas   []accounts.Meta
	listErr error    // what List fails with, if set
	removed []string // signed out: revoked, then deleted
	deleted []string // deleted without the server
}

func (s *listStore) List() ([]accounts.Meta, error) {
	if s.listErr != nil {
		return nil, s.listErr
	}
	return s.metas, nil
}

// Remove hands revoke the account's metadata as the real store does (so a
// revocation endpoint in it is really called) and records a success.
func (s *listStore) Remove(user string, revoke func(accounts.Meta, accounts.Secret, accounts.Secret) error) error {
	for _, m := range s.metas {
		if m.UserID == user {
			if err := revoke(m, "mat_test", "mar_test"); err != nil {
				return err
			}
			s.removed = append(s.removed, user)
			return nil
		}
	}
	return accounts.ErrNotFound
}

func (s *listStore) Delete(user string) error {
	s.deleted = append(s.deleted, user)
	return nil
}

// LoadKeys hands back the account's metadata; the commands tested here
// read no keys.
func (s *listStore) LoadKeys(user string) (*accounts.Account, *accounts.CorruptError, error) {
	for _, m := range s.metas {
		if m.UserID == user {
			return &accounts.Account{Meta: m}, nil, nil
		}
	}
	return nil, nil, accounts.ErrNotFound
}

func (s *listStore) AccessToken(_ context.Context, user string, _ accounts.Refresher) (accounts.Secret, error) {
	return accounts.Secret("token-of-" + user), nil
}

func withStore(t *testing.T, metas ...accounts.Meta) *listStore {
	t.Helper()
	old := accountStoreOpener
	s := &listStore{metas: metas}
	accountStoreOpener = func() (accountStore, error) { return s, nil }
	t.Cleanup(func() { accountStoreOpener = old })
	return s
}

// unreachableEndpoint is a revocation endpoint on 127.0.0.1 where nothing
// listens any more.
func unreachableEndpoint(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/revoke"
	srv.Close()
	return url
}

// TestLogoutThatCannotReachTheServerSuggestsLocal: plain logout fails as
// before (exit 1, the account kept) and says how to remove the account
// from this computer only.
func TestLogoutThatCannotReachTheServerSuggestsLocal(t *testing.T) {
	s := withStore(t, accounts.Meta{UserID: "@a:x.org", DeviceID: "DEV", ClientID: "c", RevocationEndpoint: unreachableEndpoint(t)})
	code, out, errOut := runArgs("logout")
	if code != ExitFail || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if !strings.Contains(errOut, "could not be reached") || !strings.Contains(errOut, "qrlogin logout --local --account @a:x.org") {
		t.Fatalf("stderr does not say the server was unreachable and suggest --local: %q", errOut)
	}
	if len(s.removed)+len(s.deleted) != 0 {
		t.Fatalf("removed %q, deleted %q", s.removed, s.deleted)
	}
}

// TestLogoutLocalDoesNotContactTheServer: --local deletes the account's
// items without revoking (its endpoint is unreachable) and says that the
// device stays on the account.
func TestLogoutLocalDoesNotContactTheServer(t *testing.T) {
	s := withStore(t, accounts.Meta{UserID: "@a:x.org", DeviceID: "DEV", RevocationEndpoint: unreachableEndpoint(t)},
		accounts.Meta{UserID: "@b:x.org", DeviceID: "DEV2"})
	if code, _, errOut := runArgs("logout", "--local"); code != ExitUsage || !strings.Contains(errOut, "--account") {
		t.Fatalf("--local with two accounts: exit %d, %q", code, errOut)
	}
	code, out, errOut := runArgs("logout", "--local", "--account", "@a:x.org")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if !slices.Equal(s.deleted, []string{"@a:x.org"}) || len(s.removed) != 0 {
		t.Fatalf("deleted %q, removed %q", s.deleted, s.removed)
	}
	if !strings.Contains(out, "@a:x.org") || !strings.Contains(out, "DEV") {
		t.Fatalf("stdout %q should name the account and the device left on the server", out)
	}
}

func runArgs(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := Dispatch(context.Background(), args, Stdio{In: strings.NewReader(""), Out: &out, Err: &errOut}, FrontEnds{})
	return code, out.String(), errOut.String()
}

func TestTokenAndLogoutNeedAccountWhenSeveral(t *testing.T) {
	withStore(t, accounts.Meta{UserID: "@a:x.org"}, accounts.Meta{UserID: "@b:x.org"})
	for _, cmd := range []string{"token", "logout"} {
		code, out, errOut := runArgs(cmd)
		if code != ExitUsage || out != "" || !strings.Contains(errOut, "@a:x.org") || !strings.Contains(errOut, "@b:x.org") {
			t.Errorf("%s with two accounts: exit %d, stdout %q, stderr %q", cmd, code, out, errOut)
		}
		if code, _, _ := runArgs(cmd, "--account", "@nobody:x.org"); code != ExitFail {
			t.Errorf("%s --account unknown: exit %d, want %d", cmd, code, ExitFail)
		}
	}
	if code, out, _ := runArgs("token", "--account", "@b:x.org"); code != ExitOK || out != "token-of-@b:x.org\n" {
		t.Errorf("token --account: exit %d, %q", code, out)
	}
}

func TestTokenPicksTheOnlyAccount(t *testing.T) {
	withStore(t, accounts.Meta{UserID: "@a:x.org"})
	if code, out, _ := runArgs("token"); code != ExitOK || out != "token-of-@a:x.org\n" {
		t.Errorf("exit %d, %q", code, out)
	}
}

func TestAccountsJSON(t *testing.T) {
	withStore(t, accounts.Meta{UserID: "@a:x.org", DeviceID: "DEV", Homeserver: "https://x.org", Verified: true})
	code, out, _ := runArgs("accounts", "--json")
	var got []map[string]any
	if code != ExitOK || json.Unmarshal([]byte(out), &got) != nil || len(got) != 1 {
		t.Fatalf("exit %d, %q", code, out)
	}
	for _, k := range []string{"user_id", "device_id", "homeserver", "verified"} {
		if _, ok := got[0][k]; !ok {
			t.Errorf("accounts --json lacks %q: %s", k, out)
		}
	}
	withStore(t)
	if code, out, _ := runArgs("accounts", "--json"); code != ExitOK || strings.TrimSpace(out) != "[]" {
		t.Errorf("no accounts: exit %d, %q", code, out)
	}
}

func TestLoginTerminalFlagsNeedHeadless(t *testing.T) {
	fe := FrontEnds{
		Window: func() int { t.Error("the window opened"); return ExitOK },
		SignIn: func(string) int { t.Error("the window opened"); return ExitOK },
	}
	for _, args := range [][]string{{"login", "--json"}, {"login", "--protocol", "msc4388"}, {"login", "--qr-invert"}, {"login", "--homeserver", "example.org", "--json"}} {
		if code, _, errOut := runWith(fe, args...); code != ExitUsage || !strings.Contains(errOut, "--headless") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
}
