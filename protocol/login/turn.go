package login

import (
	"context"
	"errors"

	"github.com/qrlogin/qrlogin/protocol/msc4108"
)

// turn is who may write next on the rendezvous. MSC4108 runs over MSC4388's
// SecureSend/SecureReceive as strict ping-pong (MSC4108 "Login via OAuth 2.0
// device authorization flow"): once we have received a message it is our
// turn, once we have sent one it is the other device's. When the other
// device has ended (m.login.failure, m.login.declined) or the channel or
// session is gone it is nobody's, and there is no one left to tell
// anything. Only link.received and link.sendEncoded move it, with
// afterReceive and afterSend.
type turn uint8

const (
	// theirTurn is the zero value: this device showed the QR code, so
	// after the handshake the other device writes first, in either role
	// (Flow: the phone's m.login.protocols, MSC4108 "1. Homeserver
	// discovery"; Grant: the new device's m.login.protocol, "3. New device
	// informs existing device").
	theirTurn turn = iota
	ourTurn
	nobodysTurn
)

// ours reports whether we may write.
func (t turn) ours() bool { return t == ourTurn }

// afterReceive is the turn once a receive ended with raw or err. A receive
// that we stopped ourselves (context.Canceled) moved nothing on the
// rendezvous, so the turn stays as it was; any other error means the
// session expired or the channel broke.
func (t turn) afterReceive(raw []byte, err error) turn {
	switch {
	case err == nil:
		switch typ, _ := decodeMessage(raw); typ {
		case msc4108.TypeFailure, msc4108.TypeDeclined:
			// The other device has ended (m.login.declined is the new
			// device's last word on a denial, MSC4108 step 6); nobody to
			// answer.
			return nobodysTurn
		}
		return ourTurn
	case errors.Is(err, context.Canceled):
		return t
	default:
		return nobodysTurn
	}
}

// afterSend is the turn once a send ended with err. A failed send ends our
// sending on the channel (securechannel.Channel.Send), so nobody writes
// after it; what the other device wrote can still be read (otherWroteFirst).
func (turn) afterSend(err error) turn {
	if err != nil {
		return nobodysTurn
	}
	return theirTurn
}
