package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/internal/identity"
)

// cLocaleEnv is commandEnv with the locale of a server or container: LANG
// set to lang and no other locale variable.
func cLocaleEnv(lang string) []string {
	var env []string
	for _, kv := range commandEnv() {
		switch name, _, _ := strings.Cut(kv, "="); name {
		case "LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LANG="+lang)
}

// TestCommandsAreQuietInTheCLocale: under LANG=C, POSIX and C.UTF-8 (the
// default of many servers and containers) `--version`, `accounts` and
// `token` print exactly their answer on stdout and nothing on stderr;
// Fyne's language lookup, which runs before main, must not complain about
// the locale (internal/localeenv).
func TestCommandsAreQuietInTheCLocale(t *testing.T) {
	requireSession(t)
	t.Parallel()
	srv := startServer(t, devserver.Config{})
	if o := login(t, srv, scenario{gen: gen4388}); o.exit != 0 || o.phoneErr != nil {
		t.Fatalf("login failed: %s", o)
	}
	defer logout(t, srv)

	for _, lang := range []string{"C", "POSIX", "C.UTF-8"} {
		t.Run(lang, func(t *testing.T) {
			env := cLocaleEnv(lang)
			quiet := func(args ...string) string {
				t.Helper()
				stdout, stderr, code := runCommand(t, env, args...)
				if code != 0 || stderr != "" {
					t.Fatalf("LANG=%s qrlogin %s: exit %d, stderr %q", lang, strings.Join(args, " "), code, stderr)
				}
				return stdout
			}
			if out := quiet("--version"); out != identity.BinaryName+" "+identity.Version+"\n" {
				t.Errorf("--version printed %q", out)
			}
			if out := quiet("accounts"); !strings.Contains(out, srv.UserID()) {
				t.Errorf("accounts printed %q, without %s", out, srv.UserID())
			}
			out := quiet("token", "--account", srv.UserID())
			token := strings.TrimSuffix(out, "\n")
			if token == "" || strings.ContainsAny(token, " \n") {
				t.Fatalf("token printed %d bytes on %d lines, want the token alone", len(out), strings.Count(out, "\n"))
			}
			if st := whoamiStatus(t, srv, token); st != http.StatusOK {
				t.Errorf("whoami with the printed token: HTTP %d", st)
			}
		})
	}
}
