package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/qrlogin/qrlogin/app/accounts"
)

// listStore stands in for the keyring store in these tests of the command
// line's account selection only; the store itself is tested against the
// real Secret Service in app/accounts, and these commands end to end in
// test/e2e.
type listStore struct {
	metas []accounts.Meta
}

func (s listStore) List() ([]accounts.Meta, error) { return s.metas, nil }
func (s listStore) Remove(string, func(accounts.Meta, accounts.Secret, accounts.Secret) error) error {
	return nil
}
func (s listStore) AccessToken(_ context.Context, user string, _ accounts.Refresher) (accounts.Secret, error) {
	return accounts.Secret("token-of-" + user), nil
}

func withStore(t *testing.T, metas ...accounts.Meta) {
	t.Helper()
	old := accountStoreOpener
	accountStoreOpener = func() (accountStore, error) { return listStore{metas}, nil }
	t.Cleanup(func() { accountStoreOpener = old })
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
