package login

import (
	"encoding/json"

	"github.com/qrlogin/qrlogin/protocol/msc4108"
)

// decodeMessage reads a message's type; a body that is not a JSON object
// with a string type is an unexpected message.
func decodeMessage(raw []byte) (string, error) {
	typ, err := msc4108.TypeOf(raw)
	if err != nil {
		return "", &UnexpectedMessageError{Got: "malformed message", Want: "an MSC4108 message"}
	}
	return typ, nil
}

// failureFrom turns a received m.login.failure into a *PhoneFailure.
func failureFrom(raw []byte) error {
	var m msc4108.Failure
	if err := json.Unmarshal(raw, &m); err != nil || m.Reason == "" {
		return &PhoneFailure{Reason: "unknown"}
	}
	return &PhoneFailure{Reason: m.Reason, Homeserver: m.Homeserver}
}
