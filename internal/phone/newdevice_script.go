package phone

import (
	"fmt"
	"time"
)

// Steps of the scripted new device (RunNewDevice): the two messages it
// sends on its own initiative after the secure channel is up.
const (
	// StepProtocol: sending m.login.protocol right after LoginOk (MSC4108
	// "3. New device informs existing device that it wants to use the
	// device_authorization_grant").
	StepProtocol Step = "protocol"
	// StepSuccess (declared with the phone's steps) is, for the new
	// device, sending m.login.success once the token endpoint issued
	// tokens (MSC4108 "6. New device waits for approval from homeserver").
)

// NewDeviceSteps lists the new device's steps in protocol order.
var NewDeviceSteps = []Step{StepProtocol, StepSuccess}

// ParseNewDeviceStep reads a new-device step name as the command line and
// tests spell it.
func ParseNewDeviceStep(name string) (Step, error) {
	return parseStepIn(NewDeviceSteps, "new-device step", name)
}

// NewDeviceScript says how the scripted new device misbehaves. The zero
// value is a well-behaved new device that waits for someone to approve it
// (the person at the existing device's browser, the test through the dev
// homeserver, or NewDeviceConfig.Consent).
type NewDeviceScript struct {
	// Deny makes NewDeviceConfig.Consent deny the request on the consent
	// page instead of approving it (the new device then sees access_denied).
	Deny bool
	// AnswerDeclined answers a denial with m.login.declined, as
	// matrix-rust-sdk's new device and the MSC4108 diagram do, instead of
	// m.login.failure user_cancelled as matrix-js-sdk's does.
	AnswerDeclined bool
	// SkipToken never exchanges the device code, so the device is never
	// created, but still sends m.login.success after
	// m.login.protocol_accepted: the existing device must notice that the
	// device is missing (MSC4108 "Secret sharing", step 1:
	// device_not_found) and share no secrets.
	SkipToken bool
	// Protocol replaces "device_authorization_grant" in m.login.protocol
	// (the existing device must answer unsupported_protocol).
	Protocol string
	// FailAt sends m.login.failure with FailReason instead of the step's
	// message (e.g. the user cancelled on the new device).
	FailAt     Step
	FailReason string
	// FailOutOfTurnAfter sends m.login.failure with FailReason right after
	// the step's message, without waiting for the existing device's answer
	// (the user cancelled on the new device while the existing device was
	// busy): the existing device's next write, m.login.protocol_accepted
	// after StepProtocol or m.login.secrets after StepSuccess, meets a
	// concurrent write (MSC4388 409, 2024 412).
	// NewDeviceConfig.OutOfTurnAfter times the write.
	FailOutOfTurnAfter Step
	// UnexpectedAt sends a message of a type nobody expects instead of the
	// step's message, then reports the existing device's answer.
	UnexpectedAt Step
	// TamperAt flips one bit of the ciphertext of the step's message on the
	// wire, after encryption (the existing device must reject it).
	TamperAt Step
	// SilentAt stops responding at the step: the new device sends nothing
	// more (at StepSuccess it neither polls the token endpoint nor sends
	// m.login.success) and only listens until the rendezvous ends, so the
	// existing device must give up by itself (expiry).
	SilentAt Step
	// Delay is waited before each message the new device sends.
	Delay time.Duration
}

// Validate rejects contradictory scripts.
func (s NewDeviceScript) Validate() error {
	failAt := s.FailAt
	if s.FailOutOfTurnAfter != StepNone {
		if s.FailAt != StepNone {
			return fmt.Errorf("phone: FailAt and FailOutOfTurnAfter each send the one failure; set one")
		}
		failAt = s.FailOutOfTurnAfter
	}
	if err := validateSteps(ParseNewDeviceStep, failAt, s.FailReason, s.UnexpectedAt, s.TamperAt, s.SilentAt); err != nil {
		return err
	}
	if s.SkipToken && s.Deny {
		return fmt.Errorf("phone: SkipToken never asks for consent, so there is nothing to deny")
	}
	if s.Delay < 0 {
		return fmt.Errorf("phone: negative duration")
	}
	return nil
}

func (s NewDeviceScript) actionAt(st Step) action {
	return actionOf(st, s.SilentAt, s.FailAt, s.UnexpectedAt)
}
