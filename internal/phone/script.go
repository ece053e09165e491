package phone

import (
	"fmt"
	"strings"
	"time"
)

// Step is a point in the existing device's side of MSC4108 where a Script
// can act. Each step is one message (or, for StepConsent, one visit to the
// consent page) of the phone.
type Step string

const (
	// StepNone: the script does nothing special.
	StepNone Step = ""
	// StepProtocols: sending m.login.protocols right after the check code.
	StepProtocols Step = "protocols"
	// StepProtocolAccepted: sending m.login.protocol_accepted after the
	// device ID was checked.
	StepProtocolAccepted Step = "protocol_accepted"
	// StepConsent: approving (or denying) on the consent page.
	StepConsent Step = "consent"
	// StepSuccess: waiting for m.login.success after the consent page.
	// FailAt or UnexpectedAt there make the phone write out of turn, before
	// the new device said anything (as when the user cancels on the phone
	// right after approving): the new device's m.login.success then meets
	// a concurrent write (MSC4388 409, 2024 412). Config.OutOfTurnAfter
	// times the write.
	StepSuccess Step = "success"
	// StepSecrets: sending m.login.secrets after m.login.success.
	StepSecrets Step = "secrets"
)

// Steps lists the steps in protocol order.
var Steps = []Step{StepProtocols, StepProtocolAccepted, StepConsent, StepSuccess, StepSecrets}

// ParseStep reads a step name as the command line and tests spell it.
func ParseStep(name string) (Step, error) { return parseStepIn(Steps, "step", name) }

// parseStepIn reads a step name among steps; kind names them in the error.
func parseStepIn(steps []Step, kind, name string) (Step, error) {
	names := make([]string, len(steps))
	for i, s := range steps {
		if string(s) == name {
			return s, nil
		}
		names[i] = string(s)
	}
	want := "one of " + strings.Join(names, ", ")
	if len(names) == 2 {
		want = names[0] + " or " + names[1]
	}
	return StepNone, fmt.Errorf("phone: unknown %s %q (want %s)", kind, name, want)
}

// Script says how the phone behaves. The zero value is a well-behaved phone
// that approves at once.
type Script struct {
	// Deny refuses the sign-in on the consent page instead of approving.
	Deny bool
	// FailAt sends m.login.failure with FailReason instead of the step's
	// message (at StepConsent: instead of visiting the consent page).
	FailAt     Step
	FailReason string
	// UnexpectedAt sends a message of a type nobody expects there instead of
	// the step's message (the desktop must answer unexpected_message_received).
	UnexpectedAt Step
	// TamperAt flips one bit of the ciphertext of the step's message on the
	// wire, after encryption (the desktop must reject it).
	TamperAt Step
	// ReplayAt writes the phone's previous ciphertext again in place of the
	// step's message, as a man in the middle replaying a recorded message
	// (the desktop must reject it).
	ReplayAt Step
	// SilentAt skips the step and only keeps listening, as a phone whose user
	// walked away: the desktop must give up by itself (expiry) and the phone
	// reports what it heard last.
	SilentAt Step
	// WrongSecrets shares cross-signing seeds and a backup key that do not
	// belong to the account (the desktop must warn and finish unverified).
	WrongSecrets bool
	// HomeserverAsServerName (2024 generation) sends m.login.protocols'
	// homeserver as a bare server name, as Element Web does, instead of a
	// full URL as rust-sdk does (docs/protocol-divergences.md "base_url vs
	// homeserver").
	HomeserverAsServerName bool
	// Delay is waited before each message the phone sends ("slow phone").
	Delay time.Duration
	// DeviceCreationTimeout bounds the wait for the new device to appear in
	// the device list after m.login.success; zero means rust-sdk's 10 s.
	DeviceCreationTimeout time.Duration
}

// Validate rejects contradictory scripts.
func (s Script) Validate() error {
	if err := validateSteps(ParseStep, s.FailAt, s.FailReason, s.UnexpectedAt, s.TamperAt, s.ReplayAt, s.SilentAt); err != nil {
		return err
	}
	if s.TamperAt == StepConsent || s.ReplayAt == StepConsent || s.UnexpectedAt == StepConsent {
		return fmt.Errorf("phone: the consent step sends no message to tamper with, replay or replace")
	}
	if s.TamperAt == StepSuccess || s.ReplayAt == StepSuccess || s.SilentAt == StepSuccess {
		return fmt.Errorf("phone: at the success step the phone only writes out of turn (FailAt or UnexpectedAt)")
	}
	if s.Delay < 0 || s.DeviceCreationTimeout < 0 {
		return fmt.Errorf("phone: negative duration")
	}
	return nil
}

// actionAt says what the script does at one step.
type action int

const (
	actNormal action = iota
	actFail
	actUnexpected
	actSilent
)

func (s Script) actionAt(st Step) action { return actionOf(st, s.SilentAt, s.FailAt, s.UnexpectedAt) }

// actionOf says what a script with these steps does at st.
func actionOf(st, silentAt, failAt, unexpectedAt Step) action {
	switch st {
	case silentAt:
		return actSilent
	case failAt:
		return actFail
	case unexpectedAt:
		return actUnexpected
	}
	return actNormal
}

// validateSteps checks what both scripts (Script, NewDeviceScript) require
// of their steps: each one set is a step parse knows, and FailAt goes with
// FailReason.
func validateSteps(parse func(string) (Step, error), failAt Step, failReason string, others ...Step) error {
	for _, st := range append([]Step{failAt}, others...) {
		if st == StepNone {
			continue
		}
		if _, err := parse(string(st)); err != nil {
			return err
		}
	}
	if (failAt == StepNone) != (failReason == "") {
		return fmt.Errorf("phone: FailAt and FailReason go together")
	}
	return nil
}
