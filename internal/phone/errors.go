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
)

// PeerFailure: the new device sent m.login.failure.
type PeerFailure struct {
	Reason string
}

func (e *PeerFailure) Error() string {
	return fmt.Sprintf("phone: the new device reported a failure: %s", e.Reason)
}

// UnexpectedMessageError: the new device sent a message of the wrong type.
type UnexpectedMessageError struct {
	Got, Want string
}

func (e *UnexpectedMessageError) Error() string {
	return fmt.Sprintf("phone: expected %s from the new device but got %q", e.Want, e.Got)
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
