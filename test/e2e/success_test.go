package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/internal/identity"
)

// accountEntry is one element of `qrlogin accounts --json`.
type accountEntry struct {
	UserID     string `json:"user_id"`
	DeviceID   string `json:"device_id"`
	Homeserver string `json:"homeserver"`
	Verified   bool   `json:"verified"`
}

func listAccounts(t *testing.T) []accountEntry {
	t.Helper()
	stdout, stderr, code := runCommand(t, commandEnv(), "accounts", "--json")
	if code != 0 {
		t.Fatalf("qrlogin accounts --json: exit %d\n%s", code, stderr)
	}
	var list []accountEntry
	if err := json.Unmarshal([]byte(stdout), &list); err != nil {
		t.Fatalf("qrlogin accounts --json printed %q: %v", stdout, err)
	}
	return list
}

func findAccount(t *testing.T, userID string) (accountEntry, bool) {
	t.Helper()
	for _, a := range listAccounts(t) {
		if a.UserID == userID {
			return a, true
		}
	}
	return accountEntry{}, false
}

// TestLoginSucceedsAndTheAccountWorks is the whole journey on each
// generation: sign in, list the account, get a token the server accepts,
// log out (the token is revoked and the account gone).
func TestLoginSucceedsAndTheAccountWorks(t *testing.T) {
	requireSession(t)
	t.Parallel()
	for _, gen := range generations {
		t.Run(gen, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, devserver.Config{})
			o := login(t, srv, scenario{gen: gen})
			if o.exit != 0 || o.phoneErr != nil {
				t.Fatalf("login failed: %s", o)
			}
			expectPrefix(t, o, "qr", "check_code_needed", "secure_channel_established", "homeserver", "user_code", "logged_in", "secrets", "done")
			if qr, _ := o.find("qr"); qr.str("protocol") != gen || qr["expires_in_ms"].(float64) <= 0 {
				t.Errorf("qr event %v", qr)
			}
			if hs, _ := o.find("homeserver"); hs.str("base_url") != srv.URL() {
				t.Errorf("homeserver event %v, want %s", hs, srv.URL())
			}
			if uc, _ := o.find("user_code"); uc.str("user_code") != o.phoneRes.UserCode || uc.str("verification_uri") != srv.ConsentURL() {
				t.Errorf("user_code event %v; the phone approved %q", uc, o.phoneRes.UserCode)
			}
			if s, _ := o.find("secrets"); s["cross_signing"] != true || s["backup"] != true {
				t.Errorf("secrets event %v", s)
			}
			done := o.last()
			if done.str("user_id") != srv.UserID() || done.str("device_id") != o.phoneRes.NewDeviceID || done["verified"] != true {
				t.Fatalf("done event %v (user %s, device %s)", done, srv.UserID(), o.phoneRes.NewDeviceID)
			}
			if d, ok := srv.Device(o.phoneRes.NewDeviceID); !ok || !d.CrossSigned {
				t.Errorf("the server's view of the new device: %+v %v", d, ok)
			}
			expectNoSecrets(t, srv, "login output", o.stdout, o.stderr)

			acct, ok := findAccount(t, srv.UserID())
			if !ok || acct.DeviceID != o.phoneRes.NewDeviceID || acct.Homeserver != srv.URL() || !acct.Verified {
				t.Fatalf("accounts lists %+v (found %v)", acct, ok)
			}

			tokenOut, tokenErr, code := runCommand(t, commandEnv(), "token", "--account", srv.UserID())
			token := strings.TrimSpace(tokenOut)
			if code != 0 || token == "" {
				t.Fatalf("qrlogin token: exit %d\n%s", code, tokenErr)
			}
			if st := whoamiStatus(t, srv, token); st != http.StatusOK {
				t.Fatalf("whoami with the printed token: HTTP %d", st)
			}
			expectNoSecrets(t, srv, "token stderr", tokenErr)

			outOut, outErr, code := runCommand(t, commandEnv(), "logout", "--account", srv.UserID())
			if code != 0 {
				t.Fatalf("qrlogin logout: exit %d\n%s%s", code, outOut, outErr)
			}
			expectNoSecrets(t, srv, "logout output", outOut, outErr)
			if st := whoamiStatus(t, srv, token); st != http.StatusUnauthorized {
				t.Fatalf("whoami after logout: HTTP %d, want 401", st)
			}
			if _, ok := findAccount(t, srv.UserID()); ok {
				t.Fatal("the account is still listed after logout")
			}
		})
	}
}

// TestLoginMSCTextVariant: MSC4388 as the MSC text has it (MATRIX prefix,
// /_matrix/client/v1/rendezvous, the text's export labels) works end to
// end too; the phone follows the QR code's prefix.
func TestLoginMSCTextVariant(t *testing.T) {
	requireSession(t)
	t.Parallel()
	srv := startServer(t, devserver.Config{MSC4388StablePaths: true})
	cfg := privateConfigDir(t)
	o := login(t, srv, scenario{gen: gen4388, extraArgs: []string{"--msc4388-variant", "msc-text"},
		extraEnv: []string{"XDG_CONFIG_HOME=" + cfg}})
	if o.exit != 0 || o.phoneErr != nil {
		t.Fatalf("login failed: %s", o)
	}
	if o.phoneRes.Variant != "msc-text" {
		t.Errorf("the phone ran variant %q", o.phoneRes.Variant)
	}
	if done := o.last(); done.name() != "done" || done["verified"] != true {
		t.Fatalf("last event %v", done)
	}
	logout(t, srv)
	// The flag was for this run: the saved settings keep the homeserver
	// only (a saved variant broke every later sign-in on servers without
	// the stable paths).
	saved, err := os.ReadFile(filepath.Join(cfg, identity.AppID, "settings.json"))
	if err != nil {
		t.Fatalf("no settings saved: %v", err)
	}
	if strings.Contains(string(saved), "msc-text") || !strings.Contains(string(saved), srv.URL()) {
		t.Errorf("saved settings %s", saved)
	}
}
