// Package harness proves the test environment that scripts/with-test-session
// builds (a private D-Bus session bus with an unlocked gnome-keyring Secret
// Service, and an Xvfb display) and gives other packages' tests one way to
// ask for it.
//
// Outside that session the Require functions skip the test; with
// QRLOGIN_REQUIRE_SESSION=1 (which the script sets, so in `make test` and CI)
// they fail it instead, so a broken harness cannot pass by skipping.
package harness

import (
	"os"
	"testing"
)

// RequireSessionEnv names the variable that turns skips into failures.
const RequireSessionEnv = "QRLOGIN_REQUIRE_SESSION"

// RequireDisplay stops the test unless an X display is available.
func RequireDisplay(t testing.TB) {
	t.Helper()
	if os.Getenv("DISPLAY") == "" {
		unavailable(t, "no X display (DISPLAY is unset)")
	}
}

// RequireSecretService stops the test unless a session bus is available;
// inside scripts/with-test-session that bus has an unlocked Secret Service.
func RequireSecretService(t testing.TB) {
	t.Helper()
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		unavailable(t, "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset)")
	}
}

func unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv(RequireSessionEnv) == "1" {
		t.Fatalf("%s, yet %s=1: the test session is broken", why, RequireSessionEnv)
	}
	t.Skipf("%s; run it through `make test` or scripts/with-test-session", why)
}
