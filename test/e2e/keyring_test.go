package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/devserver"
)

// expectOnlyJSONError checks a login that could not start: exit 1, every
// stdout line a JSON object, the last an error with code, no QR code shown.
func expectOnlyJSONError(t *testing.T, o *outcome, code string) {
	t.Helper()
	expectError(t, o, code)
	if _, ok := o.find("qr"); ok {
		t.Error("a QR code was shown although the sign-in could not be saved")
	}
	for _, line := range strings.Split(strings.TrimSpace(o.stdout), "\n") {
		if !strings.HasPrefix(line, "{") || !strings.HasSuffix(line, "}") {
			t.Errorf("stdout line %q is not a JSON object", line)
		}
	}
}

// TestNoSecretService: with no D-Bus session at all the binary says what to
// install and exits 1 before showing a QR code.
func TestNoSecretService(t *testing.T) {
	requireSession(t) // not for the keyring: to build the binary only where tests run
	t.Parallel()
	srv := startServer(t, devserver.Config{})
	bus := "unix:path=" + filepath.Join(t.TempDir(), "no-such-bus")
	o := login(t, srv, scenario{gen: gen4388, noPhone: true, extraEnv: []string{"DBUS_SESSION_BUS_ADDRESS=" + bus}})
	expectOnlyJSONError(t, o, "keyring_unavailable")
	if !strings.Contains(o.last().str("message"), "keyring") {
		t.Errorf("the message does not say what is missing: %q", o.last().str("message"))
	}
}

// TestLockedKeyring runs the binary in a private D-Bus session whose GNOME
// Keyring has a login keyring that is locked. With no display the unlock
// prompt (gcr-prompter) cannot appear and fails at once, so this needs no
// interaction: the binary must report keyring_unavailable, not hang.
func TestLockedKeyring(t *testing.T) {
	requireSession(t)
	t.Parallel()
	for _, tool := range []string{"dbus-run-session", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing (apt-get install dbus gnome-keyring)", tool)
			}
			t.Skipf("%s is missing", tool)
		}
	}
	srv := startServer(t, devserver.Config{})
	dir := t.TempDir()
	runDir := filepath.Join(dir, "run")
	if err := os.Mkdir(runDir, 0o700); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range commandEnv() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "XDG_DATA_HOME", "XDG_RUNTIME_DIR":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "XDG_DATA_HOME="+filepath.Join(dir, "data"), "XDG_RUNTIME_DIR="+runDir)

	// 1. Create the login keyring with a password, in a session of its own.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	create := exec.CommandContext(ctx, "dbus-run-session", "--", "sh", "-c",
		`printf %s e2e-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null && "$0" accounts --json`, qrloginBinary(t))
	create.Env = env
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("creating the keyring: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "keyrings", "login.keyring")); err != nil {
		t.Fatalf("no login keyring was created: %v", err)
	}

	// 2. A new session: the daemon starts with that keyring locked.
	wrapper := filepath.Join(dir, "qrlogin-locked")
	script := "#!/bin/sh\nexec dbus-run-session -- sh -c 'gnome-keyring-daemon --start --components=secrets >/dev/null; exec \"$0\" \"$@\"' " +
		qrloginBinary(t) + ` "$@"` + "\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	o := loginWith(t, wrapper, srv, scenario{gen: gen4388, noPhone: true, timeout: 30 * time.Second}, env)
	expectOnlyJSONError(t, o, "keyring_unavailable")
}
