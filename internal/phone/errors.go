package phone

import (
	"errors"
	"fmt"
)

// Errors that end the phone's side. Tests match them with errors.Is/As.
var (
	// ErrNotNewDeviceCode: the QR code was shown by an existing device; the
	// phone is an existing device too, so there is nothing to sign in.
	ErrNotNewDeviceCode = errors.New("phone: the QR code is not from a device that wants to sign in")
	// ErrDeclined: the new device sent m.login.declined (after a Deny).
	ErrDeclined = errors.New("phone: the new device reports that the sign-in was declined")
	// ErrMalformedMessage: the new device sent something that is not an
	// MSC4108 message.
	ErrMalformedMessage = errors.New("phone: malformed message from the new device")
	// ErrScriptedFailure: the phone ended the sign-in itself because its
	// script told it to (FailAt, UnexpectedAt, TamperAt), or because a check
	// failed (device_already_exists, device_not_found) and it said so.
	ErrScriptedFailure = errors.New("phone: the phone ended the sign-in")

	// ErrNotExistingDeviceCode: the scripted new device (RunNewDevice) was
	// given a QR code shown by a device that wants to sign in itself.
	ErrNotExistingDeviceCode = errors.New("phone: the QR code is not from a signed-in device offering to sign another one in")
	// ErrUserDenied: the sign-in was denied on the consent page; the
	// scripted new device told the existing device so (m.login.failure
	// user_cancelled or m.login.declined, NewDeviceScript.AnswerDeclined).
	ErrUserDenied = errors.New("phone: the sign-in of the new device was denied on the consent page")
	// ErrMalformedFromExisting: the existing device sent something that is
	// not an MSC4108 message.
	ErrMalformedFromExisting = errors.New("phone: malformed message from the existing device")
)

// ExistingDeviceFailure: the existing device sent m.login.failure to the
// scripted new device.
type ExistingDeviceFailure struct {
	Reason     string
	Homeserver string // the optional server name it named
}

func (e *ExistingDeviceFailure) Error() string {
	return fmt.Sprintf("phone: the existing device reported a failure: %s", e.Reason)
}

// PeerFailure: the new device sent m.login.failure.
type PeerFailure struct {
	Reason string
}

func (e *PeerFailure) Error() string {
	return fmt.Sprintf("phone: the new device reported a failure: %s", e.Reason)
}

// UnexpectedMessageError: the peer sent a message of the wrong type.
type UnexpectedMessageError struct {
	Got, Want string
	// From names the peer; empty means the new device (the phone's peer).
	From string
}

func (e *UnexpectedMessageError) Error() string {
	from := e.From
	if from == "" {
		from = "the new device"
	}
	return fmt.Sprintf("phone: expected %s from %s but got %q", e.Want, from, e.Got)
}

// SentFailureError: the phone sent m.login.failure with Reason and stopped.
type SentFailureError struct {
	Reason string
	Err    error // why, when the phone found a problem itself
}

func (e *SentFailureError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("phone: sent m.login.failure %s: %v", e.Reason, e.Err)
	}
	return "phone: sent m.login.failure " + e.Reason
}

func (e *SentFailureError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrScriptedFailure}
	}
	return []error{ErrScriptedFailure, e.Err}
}

// errNoSuchStep: a NewDevice ended without reaching the step waited for.
var errNoSuchStep = errors.New("phone: the new device ended before that step")
