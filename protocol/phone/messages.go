package phone

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

	// typeUnexpected is what Script.UnexpectedAt sends: a type no step expects.
	typeUnexpected = "org.qrlogin.test.unexpected"

	protocolDeviceGrant = "device_authorization_grant"
)

// Failure reasons the phone sends on its own (MSC4108).
const (
	ReasonDeviceAlreadyExists = "device_already_exists"
	ReasonDeviceNotFound      = "device_not_found"
	ReasonUnsupportedProtocol = "unsupported_protocol"
	ReasonUnexpectedMessage   = "unexpected_message_received"
)

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

type protocolMessage struct {
	Type        string       `json:"type"`
	Protocol    string       `json:"protocol"`
	DeviceGrant *deviceGrant `json:"device_authorization_grant"`
	DeviceID    string       `json:"device_id"`
}

type failureMessage struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

type simpleMessage struct {
	Type string `json:"type"`
}

// secretsMessage is m.login.secrets (REFERENCE-IMPLEMENTATIONS.md 4.3).
type secretsMessage struct {
	Type         string `json:"type"`
	CrossSigning struct {
		MasterKey      string `json:"master_key"`
		SelfSigningKey string `json:"self_signing_key"`
		UserSigningKey string `json:"user_signing_key"`
	} `json:"cross_signing"`
	Backup *backupSecret `json:"backup,omitempty"`
}

type backupSecret struct {
	Algorithm     string `json:"algorithm"`
	Key           string `json:"key"`
	BackupVersion string `json:"backup_version"`
}

// maxMessage bounds what the phone parses (the rendezvous holds 4 KiB).
const maxMessage = 64 << 10

// messageType reads the type of a received message.
func messageType(raw []byte) (string, error) {
	if len(raw) > maxMessage {
		return "", fmt.Errorf("%w: %d bytes", ErrMalformedMessage, len(raw))
	}
	var e simpleMessage
	if err := json.Unmarshal(raw, &e); err != nil || e.Type == "" {
		return "", ErrMalformedMessage
	}
	return e.Type, nil
}
