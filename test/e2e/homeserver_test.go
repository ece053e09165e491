package e2e

import (
	"errors"
	"strings"
	"testing"

	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/internal/phone"
)

// TestPhoneOnAnotherHomeserver: the binary is told one homeserver and the
// phone that scans is signed in to another. The binary stops before any
// device code is asked for (no user_code), with error code
// homeserver_mismatch and a message that suggests --homeserver with the
// phone's server; the phone hears m.login.failure user_cancelled; nothing
// is stored.
func TestPhoneOnAnotherHomeserver(t *testing.T) {
	eachGeneration(t, func(t *testing.T, gen string) {
		chosen, phones := startServer(t, devserver.Config{}), startServer(t, devserver.Config{})
		o := login(t, chosen, scenario{gen: gen, phoneOn: phones})
		expectPrefix(t, o, "qr", "check_code_needed", "secure_channel_established")
		expectError(t, o, "homeserver_mismatch")
		msg := o.last().str("message")
		if !strings.Contains(msg, "--homeserver "+phones.URL()) || !strings.Contains(msg, chosen.URL()) {
			t.Errorf("message %q: want both servers and --homeserver %s", msg, phones.URL())
		}
		for _, name := range []string{"homeserver", "user_code", "logged_in"} {
			if _, ok := o.find(name); ok {
				t.Errorf("event %s after a homeserver mismatch: %s", name, o)
			}
		}
		var pf *phone.PeerFailure
		if !errors.As(o.phoneErr, &pf) || pf.Reason != "user_cancelled" {
			t.Errorf("the phone heard %v, want m.login.failure user_cancelled", o.phoneErr)
		}
		if _, ok := findAccount(t, phones.UserID()); ok {
			t.Error("an account of the phone's server was stored")
		}
		expectNotStored(t, chosen, o)
	})
}
