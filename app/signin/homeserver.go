package signin

import (
	"errors"

	"github.com/qrlogin/qrlogin/protocol/login"
)

// PhoneHomeserver reports the homeserver the phone is signed in to when a
// sign-in stopped because it is not the one chosen
// (login.HomeserverMismatchError): the server a front end offers to sign
// in to instead, after the user says so. The window's "Sign in to SERVER
// instead" button and the terminal's --homeserver hint both take it from
// here.
func PhoneHomeserver(err error) (string, bool) {
	var m *login.HomeserverMismatchError
	if errors.As(err, &m) && m.Phone != "" {
		return m.Phone, true
	}
	return "", false
}
