package login

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
)

// TestTurnIsPingPong pins MSC4108's strict ping-pong as turn.go states it:
// the phone opens, a message received makes it ours, a message sent the
// phone's, and m.login.failure or a dead channel or session leaves nobody.
func TestTurnIsPingPong(t *testing.T) {
	var zero turn
	if zero != theirTurn || zero.ours() {
		t.Fatalf("a new flow's turn is %d; the phone writes first", zero)
	}
	message := []byte(`{"type":"m.login.protocols","protocols":["device_authorization_grant"]}`)
	failure := []byte(`{"type":"m.login.failure","reason":"user_cancelled"}`)
	cases := []struct {
		name string
		from turn
		raw  []byte
		err  error
		want turn
	}{
		{"message", theirTurn, message, nil, ourTurn},
		{"malformed message (we answer it)", theirTurn, []byte("{"), nil, ourTurn},
		{"failure from the phone", theirTurn, failure, nil, nobodysTurn},
		{"failure while we poll", ourTurn, failure, nil, nobodysTurn},
		{"declined by the new device", theirTurn, []byte(`{"type":"m.login.declined"}`), nil, nobodysTurn},
		{"session expired", theirTurn, nil, rendezvous.ErrExpired, nobodysTurn},
		{"tampered message", ourTurn, nil, fmt.Errorf("%w: bad tag", securechannel.ErrDecrypt), nobodysTurn},
		{"deadline", ourTurn, nil, context.DeadlineExceeded, nobodysTurn},
		{"we stopped listening on our turn", ourTurn, nil, context.Canceled, ourTurn},
		{"we stopped listening on the phone's turn", theirTurn, nil, fmt.Errorf("poll: %w", context.Canceled), theirTurn},
	}
	for _, c := range cases {
		if got := c.from.afterReceive(c.raw, c.err); got != c.want {
			t.Errorf("receive, %s: turn %d, want %d", c.name, got, c.want)
		}
	}
	if got := ourTurn.afterSend(nil); got != theirTurn {
		t.Errorf("after a send: turn %d, want the phone's", got)
	}
	if got := ourTurn.afterSend(errors.New("conflict")); got != nobodysTurn {
		t.Errorf("after a failed send: turn %d, want nobody's", got)
	}
}
