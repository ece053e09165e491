// Package msc4108 holds the JSON messages that the new and the existing
// device exchange over the secure channel during sign-in with QR (MSC4108
// "Message reference"), shared by the new-device flow (protocol/login) and
// the scripted existing device (internal/phone).
package msc4108

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Message types.
const (
	TypeProtocols        = "m.login.protocols"
	TypeProtocol         = "m.login.protocol"
	TypeProtocolAccepted = "m.login.protocol_accepted"
	TypeFailure          = "m.login.failure"
	TypeDeclined         = "m.login.declined"
	TypeSuccess          = "m.login.success"
	TypeSecrets          = "m.login.secrets"
)

// ProtocolDeviceGrant is the only sign-in protocol MSC4108 defines.
const ProtocolDeviceGrant = "device_authorization_grant"

// Reasons of m.login.failure. A peer may send reasons not listed here
// (matrix-rust-sdk main and js-sdk lack the last one,
// docs/protocol-divergences.md "Failure reasons"): keep unknown ones as
// given.
const (
	ReasonAuthorizationExpired        = "authorization_expired"
	ReasonDeviceAlreadyExists         = "device_already_exists"
	ReasonDeviceNotFound              = "device_not_found"
	ReasonUnexpectedMessageReceived   = "unexpected_message_received"
	ReasonUnsupportedProtocol         = "unsupported_protocol"
	ReasonUserCancelled               = "user_cancelled"
	ReasonUnableToOpenVerificationURI = "unable_to_open_verification_uri"
)

// MaxMessage bounds what is parsed; a rendezvous holds at most 4096 bytes.
const MaxMessage = 64 << 10

// ErrMalformed: a message is not a JSON object with a string "type".
var ErrMalformed = errors.New("msc4108: malformed message")

// Protocols is m.login.protocols, sent by the existing device. The current
// MSC text sends base_url; the 2024 generation sends homeserver, a full URL
// (rust-sdk) or a bare server name (Element Web)
// (docs/protocol-divergences.md "base_url vs homeserver").
type Protocols struct {
	Type       string   `json:"type"`
	Protocols  []string `json:"protocols"`
	BaseURL    string   `json:"base_url,omitempty"`
	Homeserver string   `json:"homeserver,omitempty"`
}

// DeviceGrant is the RFC 8628 part of m.login.protocol.
type DeviceGrant struct {
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete,omitempty"`
}

// Protocol is m.login.protocol, sent by the new device.
type Protocol struct {
	Type        string       `json:"type"`
	Protocol    string       `json:"protocol"`
	DeviceGrant *DeviceGrant `json:"device_authorization_grant,omitempty"`
	DeviceID    string       `json:"device_id"`
}

// Failure is m.login.failure, sent by either device.
type Failure struct {
	Type       string `json:"type"`
	Reason     string `json:"reason"`
	Homeserver string `json:"homeserver,omitempty"`
}

// Simple is a message with no fields but its type
// (protocol_accepted, declined, success).
type Simple struct {
	Type string `json:"type"`
}

// Secrets is m.login.secrets as it travels (docs/protocol-divergences.md
// "m.login.secrets"): unpadded base64 private keys. It never prints its
// keys; parse it with protocol/matrix.ParseSecrets to use them.
type Secrets struct {
	Type         string             `json:"type"`
	CrossSigning CrossSigningSecret `json:"cross_signing"`
	Backup       *BackupSecret      `json:"backup,omitempty"`
}

// CrossSigningSecret holds the three cross-signing seeds.
type CrossSigningSecret struct {
	MasterKey      string `json:"master_key"`
	SelfSigningKey string `json:"self_signing_key"`
	UserSigningKey string `json:"user_signing_key"`
}

// BackupSecret is the optional key-backup member.
type BackupSecret struct {
	Algorithm     string `json:"algorithm"`
	Key           string `json:"key"`
	BackupVersion string `json:"backup_version"`
}

// String keeps the keys out of logs.
func (Secrets) String() string { return "m.login.secrets{[redacted]}" }

// GoString keeps the keys out of %#v.
func (s Secrets) GoString() string { return s.String() }

// TypeOf reads a message's type.
func TypeOf(raw []byte) (string, error) {
	if len(raw) > MaxMessage {
		return "", fmt.Errorf("%w: %d bytes", ErrMalformed, len(raw))
	}
	var m Simple
	if err := json.Unmarshal(raw, &m); err != nil || m.Type == "" {
		return "", ErrMalformed
	}
	return m.Type, nil
}
