package explain

import (
	"fmt"
	"testing"

	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/matrix"
	"github.com/qrlogin/qrlogin/protocol/msc4108"
	"github.com/qrlogin/qrlogin/protocol/oauth"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
)

// Codes the end-to-end tests rely on for server trouble and protocol slips.
func TestServerTroubleAndUnexpectedMessageCodes(t *testing.T) {
	for _, c := range []struct {
		err  error
		code string
	}{
		{&oauth.Error{Endpoint: "token", Status: 500}, CodeServerError},
		{fmt.Errorf("wrapped: %w", &oauth.Error{Endpoint: "token", Status: 429}), CodeServerError},
		{&matrix.Error{Status: 503}, CodeServerError},
		{fmt.Errorf("discovery failed after 4 attempts: %w", &rendezvous.HTTPError{Status: 502, Kind: rendezvous.ErrNetwork}), CodeServerError},
		{fmt.Errorf("x: %w", rendezvous.ErrNetwork), CodeNetwork},
		{fmt.Errorf("%w: 3 sessions in a row (the last: %v)", login.ErrRendezvousBroken, rendezvous.ErrExpired), CodeServerError},
		{&oauth.Error{Endpoint: "token", Status: 400, Code: "invalid_grant"}, CodeFailed},
		{&login.UnexpectedMessageError{Got: "x", Want: "y"}, msc4108.ReasonUnexpectedMessageReceived},
		{&login.PhoneFailure{Reason: "org.example.new"}, "org.example.new"},
	} {
		if got := Error(c.err).Code; got != c.code {
			t.Errorf("Error(%v).Code = %q, want %q", c.err, got, c.code)
		}
	}
}
