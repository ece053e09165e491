package e2e

import (
	"slices"
	"testing"

	"github.com/qrlogin/qrlogin/internal/devserver"
)

// TestMalformedCheckCodeAsksAgain: a typed line that cannot be a check
// code (not one or two digits) does not end the attempt. The binary says
// why (a warning with code check_code_malformed), asks again
// (check_code_needed), and the right code typed next signs in.
func TestMalformedCheckCodeAsksAgain(t *testing.T) {
	eachGeneration(t, func(t *testing.T, gen string) {
		srv := startServer(t, devserver.Config{})
		o := login(t, srv, scenario{gen: gen, typeFirst: []string{"7x", "123", "１２"}})
		if o.exit != 0 || o.phoneErr != nil {
			t.Fatalf("login failed: %s", o)
		}
		want := []string{"qr", "check_code_needed",
			"warning", "check_code_needed", "warning", "check_code_needed", "warning", "check_code_needed",
			"secure_channel_established"}
		if got := o.names(); len(got) < len(want) || !slices.Equal(got[:len(want)], want) {
			t.Fatalf("events %v, want them to start with %v", got, want)
		}
		for _, e := range o.events[2:8] {
			if e.name() == "warning" && (e.str("code") != "check_code_malformed" || e.str("message") == "") {
				t.Errorf("warning %v, want code check_code_malformed with a message", e)
			}
		}
		if o.last().name() != "done" {
			t.Fatalf("last event %v, want done", o.last())
		}
	})
}
