package login

import (
	"encoding/json"
	"fmt"
)

// MSC4108 message types ("Message reference").
const (
	typeProtocols        = "m.login.protocols"
	typeProtocol         = "m.login.protocol"
	typeProtocolAccepted = "m.login.protocol_accepted"
	typeFailure          = "m.login.failure"
	typeDeclined         = "m.login.declined"
	typeSuccess          = "m.login.success"
	typeSecrets          = "m.login.secrets"

	protocolDeviceGrant = "device_authorization_grant"
)

// maxMessage bounds what we parse; the rendezvous holds at most 4096 bytes.
const maxMessage = 64 << 10

// envelope is the part every message shares.
type envelope struct {
	Type string `json:"type"`
}

// protocolsMessage is m.login.protocols. The current MSC4108 text sends
// base_url; the 2024 generation sends homeserver, as a full URL (rust-sdk)
// or a bare server name (Element Web) (REFERENCE-IMPLEMENTATIONS.md 3.4).
type protocolsMessage struct {
	Type       string   `json:"type"`
	Protocols  []string `json:"protocols"`
	BaseURL    string   `json:"base_url,omitempty"`
	Homeserver string   `json:"homeserver,omitempty"`
}

type deviceGrant struct {
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete,omitempty"`
}

// protocolMessage is m.login.protocol, sent by the new device.
type protocolMessage struct {
	Type        string       `json:"type"`
	Protocol    string       `json:"protocol"`
	DeviceGrant *deviceGrant `json:"device_authorization_grant,omitempty"`
	DeviceID    string       `json:"device_id"`
}

type failureMessage struct {
	Type       string `json:"type"`
	Reason     string `json:"reason"`
	Homeserver string `json:"homeserver,omitempty"`
}

type simpleMessage struct {
	Type string `json:"type"`
}

// decodeMessage reads a message's type; a body that is not a JSON object
// with a string type is an unexpected message.
func decodeMessage(raw []byte) (string, error) {
	if len(raw) > maxMessage {
		return "", fmt.Errorf("login: message of %d bytes is too large", len(raw))
	}
	var e envelope
	if err := json.Unmarshal(raw, &e); err != nil || e.Type == "" {
		return "", &UnexpectedMessageError{Got: "malformed message", Want: "an MSC4108 message"}
	}
	return e.Type, nil
}

// failureFrom turns a received m.login.failure into a *PhoneFailure.
func failureFrom(raw []byte) error {
	var m failureMessage
	if err := json.Unmarshal(raw, &m); err != nil || m.Reason == "" {
		return &PhoneFailure{Reason: "unknown"}
	}
	return &PhoneFailure{Reason: m.Reason, Homeserver: m.Homeserver}
}
