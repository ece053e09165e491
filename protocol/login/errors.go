package login

import (
	"errors"
	"fmt"
)

// PhoneFailure: the other device ended the sign-in with m.login.failure.
type PhoneFailure struct {
	Reason     string
	Homeserver string // optional hint the phone may send
}

func (e *PhoneFailure) Error() string {
	return fmt.Sprintf("login: the other device reported a failure: %s", e.Reason)
}

// UnexpectedMessageError: the other device sent a message we did not
// expect at this step (we tell it with unexpected_message_received).
type UnexpectedMessageError struct {
	Got, Want string
}

func (e *UnexpectedMessageError) Error() string {
	return fmt.Sprintf("login: expected %s from the other device but got %q", e.Want, e.Got)
}

// WrongDeviceError: the server says the new access token belongs to
// another device than the one this sign-in asked for in its scope (whoami's
// device_id; Got is "" when it names none). The tokens are revoked and the
// phone is told device_not_found.
type WrongDeviceError struct {
	Want, Got string
}

func (e *WrongDeviceError) Error() string {
	if e.Got == "" {
		return fmt.Sprintf("login: the server did not say which device the new session belongs to (asked for %s)", e.Want)
	}
	return fmt.Sprintf("login: the server signed in device %q instead of %q", e.Got, e.Want)
}

// Errors that end a sign-in; the app's error table turns each into a
// plain sentence and a stable --json code.
var (
	// ErrDeclined: the user denied the sign-in on the consent page.
	ErrDeclined = errors.New("login: the sign-in was declined on the other device")
	// ErrAuthorizationExpired: the device code expired before approval.
	ErrAuthorizationExpired = errors.New("login: the approval was not given in time")
	// ErrRendezvousExpired: the server ended the rendezvous session.
	ErrRendezvousExpired = errors.New("login: the sign-in session expired on the server")
	// ErrCancelled: the user cancelled on this device.
	ErrCancelled = errors.New("login: cancelled")
	// ErrRendezvousBroken: the server ended several sign-in sessions in a
	// row long before the expiry it announced for them, so no QR code it
	// backs can be scanned.
	ErrRendezvousBroken = errors.New("login: the server ends each sign-in session as soon as it is created")
)
