package explain

import (
	"fmt"
	"strings"
	"testing"

	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/oauth"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
)

// A server whose sign-in endpoints are plain http is refused before any
// code or token goes there; the words say it is the server's setup, not
// what the user typed.
func TestInsecureOAuthEndpointIsExplained(t *testing.T) {
	_, err := oauth.ParseMetadata([]byte(`{"issuer":"https://auth.example.org/","grant_types_supported":["` + oauth.GrantTypeDeviceCode +
		`"],"token_endpoint":"http://auth.example.org/token","device_authorization_endpoint":"https://auth.example.org/device"}`))
	if err == nil {
		t.Fatal("plain http token endpoint accepted")
	}
	x := Error(fmt.Errorf("login: %w", err))
	if x.Code != CodeServerUnsupported {
		t.Errorf("code %q, want %q", x.Code, CodeServerUnsupported)
	}
	if !strings.Contains(x.Message, "https") || strings.Contains(x.Message, "server address must") {
		t.Errorf("message %q: want one that says the server's sign-in service is not secure", x.Message)
	}
	if !strings.Contains(x.Detail, "token_endpoint") {
		t.Errorf("detail %q does not name the field", x.Detail)
	}
}

// A typed code that cannot be a check code has its own entry: the terminal
// and the window say the same sentence and ask again.
func TestMalformedCheckCodeIsExplained(t *testing.T) {
	x := Error(fmt.Errorf("typed %q: %w", "7x", securechannel.ErrCheckCodeFormat))
	if CodeCheckCodeMalformed != "check_code_malformed" { // the --json contract
		t.Errorf("CodeCheckCodeMalformed = %q", CodeCheckCodeMalformed)
	}
	if x.Code != CodeCheckCodeMalformed {
		t.Errorf("code %q, want %q", x.Code, CodeCheckCodeMalformed)
	}
	if !strings.Contains(x.Message, "digits") || x.Next == "" {
		t.Errorf("explanation %+v: want a sentence about the digits and what to do", x)
	}
	if mismatch := Error(securechannel.ErrCheckCodeMismatch); mismatch.Code == x.Code {
		t.Error("a malformed code and a mismatch share a code")
	}
}

// A phone on another homeserver than the chosen one: its own code, and a
// sentence that names both servers.
func TestHomeserverMismatchIsExplained(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", &login.HomeserverMismatchError{Chosen: "https://matrix.example.org", Phone: "https://matrix.other.example"})
	x := Error(err)
	if x.Code != "homeserver_mismatch" {
		t.Errorf("code %q, want homeserver_mismatch", x.Code)
	}
	for _, server := range []string{"https://matrix.example.org", "https://matrix.other.example"} {
		if !strings.Contains(x.Message, server) {
			t.Errorf("message %q does not name %s", x.Message, server)
		}
	}
	if !strings.Contains(x.Next, "https://matrix.other.example") {
		t.Errorf("next %q does not offer the phone's server", x.Next)
	}
}
