package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/internal/phone"
)

// newDeviceCommand starts a scripted-phone line that plays the new device.
const newDeviceCommand = "new-device"

// devServerNewDeviceHelp is appended to `qrlogin dev-server --help`.
const devServerNewDeviceHelp = `
Scripted new device: a line "new-device BASE64 [word...]" scans the QR code
of a signed-in device (MSC4388 intent 0x01 or 2024 mode 0x04) and plays the
device that signs in. It prints JSON lines on standard output:
  {"event":"check_code","check_code":"NN"}   type NN on the signed-in device
  {"event":"protocol_sent","device_id":...,"user_code":...,"verification_uri":...}
  {"event":"result","ok":true|false,...}     what arrived (secrets: which keys,
                                             verified against the server)
Words:
  approve                approve on the consent page (else a person does)
  deny                   deny on the consent page
  declined               answer a denial with m.login.declined, not
                         m.login.failure user_cancelled
  device-id=ID           ask for this device ID (default: 10 random [A-Z0-9])
  existing-device        ask for a device ID the account already has
  skip-token             never exchange the device code, but send m.login.success
  protocol=NAME          name another protocol in m.login.protocol
  fail=STEP:REASON       send m.login.failure REASON instead of STEP
  unexpected=STEP        send a message of an unexpected type at STEP
  tamper=STEP            flip a ciphertext bit of STEP's message on the wire
  silent=STEP            stop responding at STEP (the other side must time out)
  delay=DURATION         wait this long before each message
STEP is protocol or success.
`

// newDeviceLine is a parsed "new-device" line.
type newDeviceLine struct {
	qr             []byte
	script         phone.NewDeviceScript
	approve        bool
	deviceID       string
	existingDevice bool
}

// parseNewDeviceLine reads the words after "new-device"
// (devServerNewDeviceHelp).
func parseNewDeviceLine(fields []string) (newDeviceLine, error) {
	var l newDeviceLine
	if len(fields) == 0 {
		return l, errors.New("new-device: want a QR payload (base64)")
	}
	s := &l.script
	qr, err := scriptWords{
		parseStep: phone.ParseNewDeviceStep, deny: &s.Deny, failAt: &s.FailAt, failReason: &s.FailReason,
		unexpectedAt: &s.UnexpectedAt, tamperAt: &s.TamperAt, silentAt: &s.SilentAt, delay: &s.Delay,
		own: func(name, value string) (bool, error) {
			switch name {
			case "approve":
				l.approve = true
			case "declined":
				s.AnswerDeclined = true
			case "device-id":
				l.deviceID = value
				if value == "" {
					return true, errors.New("device-id=: want device-id=ID")
				}
			case "existing-device":
				l.existingDevice = true
			case "skip-token":
				s.SkipToken = true
			case "protocol":
				s.Protocol = value
				if value == "" {
					return true, errors.New("protocol=: want protocol=NAME")
				}
			default:
				return false, nil
			}
			return true, nil
		},
	}.parse(fields)
	if err != nil {
		return l, err
	}
	l.qr = qr
	if l.approve && s.Deny {
		return l, errors.New("approve and deny: choose one")
	}
	if l.deviceID != "" && l.existingDevice {
		return l, errors.New("device-id and existing-device: choose one")
	}
	return l, s.Validate()
}

// newDeviceEvent is one JSON line of the scripted new device.
type newDeviceEvent struct {
	Event           string `json:"event"`
	CheckCode       string `json:"check_code,omitempty"`
	Homeserver      string `json:"homeserver,omitempty"`
	DeviceID        string `json:"device_id,omitempty"`
	Protocol        string `json:"protocol,omitempty"`
	UserCode        string `json:"user_code,omitempty"`
	VerificationURI string `json:"verification_uri,omitempty"`
	URIComplete     string `json:"verification_uri_complete,omitempty"`
}

// newDeviceResultOut is the "result" line.
type newDeviceResultOut struct {
	Event      string `json:"event"`
	OK         bool   `json:"ok"`
	Generation string `json:"generation,omitempty"`
	CheckCode  string `json:"check_code,omitempty"`
	Homeserver string `json:"homeserver,omitempty"`
	DeviceID   string `json:"device_id,omitempty"`
	UserCode   string `json:"user_code,omitempty"`
	UserID     string `json:"user_id,omitempty"`
	Accepted   bool   `json:"accepted"`
	SignedIn   bool   `json:"signed_in"`
	// SuccessSent: m.login.success went out.
	SuccessSent bool        `json:"success_sent"`
	Secrets     *secretsOut `json:"secrets,omitempty"`
	// FailureReceived is the reason of the existing device's
	// m.login.failure; FailureSent the reason of the new device's own.
	FailureReceived string `json:"failure_received,omitempty"`
	FailureSent     string `json:"failure_sent,omitempty"`
	Denied          bool   `json:"denied,omitempty"`
	Error           string `json:"error,omitempty"`
}

type secretsOut struct {
	MasterKey      bool   `json:"master_key"`
	SelfSigningKey bool   `json:"self_signing_key"`
	UserSigningKey bool   `json:"user_signing_key"`
	Backup         bool   `json:"backup"`
	BackupVersion  string `json:"backup_version,omitempty"`
	Verified       bool   `json:"verified"`
	Problem        string `json:"problem,omitempty"`
}

func resultOut(res *phone.NewDeviceResult, err error) newDeviceResultOut {
	out := newDeviceResultOut{Event: "result", OK: err == nil}
	if res != nil {
		out.Generation, out.CheckCode, out.Homeserver = string(res.Generation), res.CheckCode, res.Homeserver
		out.DeviceID, out.UserCode, out.UserID = res.DeviceID, res.UserCode, res.UserID
		out.Accepted, out.SignedIn, out.SuccessSent = res.Accepted, res.SignedIn, res.SuccessSent
		if s := res.Secrets; s != nil {
			out.Secrets = &secretsOut{MasterKey: s.MasterKey, SelfSigningKey: s.SelfSigningKey, UserSigningKey: s.UserSigningKey,
				Backup: s.Backup, BackupVersion: s.BackupVersion, Verified: s.Verified, Problem: s.Problem}
		}
	}
	if err != nil {
		out.Error = err.Error()
		var ef *phone.ExistingDeviceFailure
		if errors.As(err, &ef) {
			out.FailureReceived = ef.Reason
		}
		var sf *phone.SentFailureError
		if errors.As(err, &sf) {
			out.FailureSent = sf.Reason
		}
		out.Denied = errors.Is(err, phone.ErrUserDenied)
	}
	return out
}

// runNewDeviceLine plays the new device for one "new-device" line.
func runNewDeviceLine(ctx context.Context, srv *devserver.Server, stdio Stdio, fields []string) error {
	l, err := parseNewDeviceLine(fields)
	if err != nil {
		fmt.Fprintf(stdio.Err, "dev-server: scripted new device: %v\n", err)
		return nil
	}
	out := stdio.Out
	if out == nil {
		out = io.Discard
	}
	enc := json.NewEncoder(out)
	cfg := phone.NewDeviceConfig{
		Script:   l.script,
		DeviceID: l.deviceID,
		OnCheckCode: func(code string) {
			_ = enc.Encode(newDeviceEvent{Event: "check_code", CheckCode: code})
			fmt.Fprintf(stdio.Err, "dev-server: scripted new device: check code %s\n", code)
		},
		OnProtocolSent: func(p phone.ProtocolSent) {
			_ = enc.Encode(newDeviceEvent{Event: "protocol_sent", Homeserver: p.Homeserver, DeviceID: p.DeviceID, Protocol: p.Protocol,
				UserCode: p.UserCode, VerificationURI: p.VerificationURI, URIComplete: p.VerificationURIComplete})
			fmt.Fprintf(stdio.Err, "dev-server: scripted new device: device %s, user code %s\n", p.DeviceID, p.UserCode)
		},
	}
	if l.approve || l.script.Deny {
		cfg.Consent = srv
	}
	if l.existingDevice {
		cfg.DeviceID = phone.NewDeviceIDString()
		if _, err := srv.LoginDevice(cfg.DeviceID); err != nil {
			fmt.Fprintf(stdio.Err, "dev-server: scripted new device: %v\n", err)
			return nil
		}
	}
	res, err := phone.RunNewDevice(ctx, cfg, l.qr)
	if errors.Is(err, context.Canceled) {
		return err
	}
	_ = enc.Encode(resultOut(res, err))
	if err != nil {
		fmt.Fprintf(stdio.Err, "dev-server: scripted new device: %v\n", err)
	} else {
		fmt.Fprintf(stdio.Err, "dev-server: scripted new device: signed in as device %s and received the secrets\n", res.DeviceID)
	}
	return nil
}
