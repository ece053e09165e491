package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/qrcode"
)

// A phone on another homeserver: the terminal names the error code and
// says how to sign in to the phone's server instead (--homeserver), in
// words and in --json.
func TestHeadlessHomeserverMismatchSuggestsTheFlag(t *testing.T) {
	err := fmt.Errorf("login: %w", &login.HomeserverMismatchError{Chosen: "https://matrix.example.org", Phone: "https://matrix.other.example"})
	const hint = "--homeserver https://matrix.other.example"

	var out, errOut syncBuffer
	p := newEventPrinter(Stdio{Out: &out, Err: &errOut}, true, qrcode.TerminalOptions{}, signInWords)
	p.event(login.Failed{Err: err})
	var e map[string]string
	if jerr := json.Unmarshal([]byte(out.String()), &e); jerr != nil {
		t.Fatalf("not JSON: %q", out.String())
	}
	if e["event"] != "error" || e["code"] != "homeserver_mismatch" || !strings.Contains(e["message"], hint) {
		t.Errorf("--json error %v: want code homeserver_mismatch and a message with %q", e, hint)
	}

	out, errOut = syncBuffer{}, syncBuffer{}
	p = newEventPrinter(Stdio{Out: &out, Err: &errOut}, false, qrcode.TerminalOptions{}, signInWords)
	p.event(login.Failed{Err: err})
	if s := errOut.String(); !strings.Contains(s, hint) || !strings.Contains(s, "https://matrix.example.org") {
		t.Errorf("terminal says %q: want both servers and %q", s, hint)
	}
}
