package login

import (
	"fmt"
	"strings"

	"github.com/qrlogin/qrlogin/protocol/securechannel"
)

// HomeserverMismatchError: the phone that scanned the QR code is signed in
// to another homeserver than the one the user chose. With this device
// showing the QR code the phone names the homeserver (MSC4108 "1.
// Homeserver discovery"); following it silently would sign this computer
// in to a server the user never picked, so the flow stops and lets the
// user decide. Both fields are resolved base URLs.
type HomeserverMismatchError struct {
	Chosen string // the homeserver the user chose
	Phone  string // the homeserver the phone is signed in to
}

func (e *HomeserverMismatchError) Error() string {
	return fmt.Sprintf("login: the other device is signed in to %s, not to the chosen homeserver %s", e.Phone, e.Chosen)
}

// sameBaseURL reports whether two base URLs name the same homeserver once
// normalised as the secure channel's binding does (scheme and host case, a
// default port, dot segments; securechannel.NormalizeBaseURL), with
// trailing slashes ignored.
func sameBaseURL(a, b string) bool {
	na, errA := securechannel.NormalizeBaseURL(a)
	nb, errB := securechannel.NormalizeBaseURL(b)
	if errA != nil || errB != nil {
		return false
	}
	return strings.TrimRight(na, "/") == strings.TrimRight(nb, "/")
}
