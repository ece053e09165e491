package matrix

import (
	"encoding/json"
	"fmt"

	"github.com/qrlogin/qrlogin/protocol/msc4108"
)

// BackupAlgorithmCurve25519 is the only backup algorithm whose key we can
// check (Matrix spec "Server-side key backups").
const BackupAlgorithmCurve25519 = "m.megolm_backup.v1.curve25519-aes-sha2"

// Secrets is a parsed m.login.secrets message (MSC4108 "Secret sharing and
// device verification" step 2, docs/protocol-divergences.md
// "m.login.secrets"). Nothing in it is trusted until VerifyCrossSigning /
// VerifyBackup passed. Call Zero when done.
type Secrets struct {
	MasterKey      *PrivateKey // ed25519 seed of the master cross-signing key
	SelfSigningKey *PrivateKey // ed25519 seed of the self-signing key
	UserSigningKey *PrivateKey // ed25519 seed of the user-signing key
	Backup         *BackupSecret
}

// BackupSecret is the optional "backup" member of m.login.secrets.
type BackupSecret struct {
	Algorithm string
	Key       *PrivateKey // the backup decryption key
	Version   string      // backup_version
}

// SecretsError says which member of m.login.secrets is missing or malformed.
type SecretsError struct {
	Field  string
	Reason string
}

func (e *SecretsError) Error() string {
	return fmt.Sprintf("matrix: m.login.secrets: %s %s", e.Field, e.Reason)
}

// ParseSecrets decodes an m.login.secrets message (the whole message,
// "type" included). The three cross-signing seeds are required; "backup" is
// optional but, when present, needs algorithm, key and backup_version. The
// decoded base64 strings are not kept beyond this call.
func ParseSecrets(body []byte) (*Secrets, error) {
	// The wire form is defined once, in package msc4108; cross_signing is a
	// pointer here only to tell "missing" from "empty".
	var m struct {
		msc4108.Secrets
		CrossSigning *msc4108.CrossSigningSecret `json:"cross_signing"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, &SecretsError{Field: "message", Reason: "is not valid JSON"}
	}
	if m.Type != msc4108.TypeSecrets {
		return nil, &SecretsError{Field: "type", Reason: fmt.Sprintf("is %.40q, not %s", m.Type, msc4108.TypeSecrets)}
	}
	if m.CrossSigning == nil {
		return nil, &SecretsError{Field: "cross_signing", Reason: "is missing"}
	}
	s := &Secrets{}
	var err error
	if s.MasterKey, err = parsePrivateKey("cross_signing.master_key", m.CrossSigning.MasterKey); err != nil {
		return nil, err
	}
	if s.SelfSigningKey, err = parsePrivateKey("cross_signing.self_signing_key", m.CrossSigning.SelfSigningKey); err != nil {
		s.Zero()
		return nil, err
	}
	if s.UserSigningKey, err = parsePrivateKey("cross_signing.user_signing_key", m.CrossSigning.UserSigningKey); err != nil {
		s.Zero()
		return nil, err
	}
	if b := m.Backup; b != nil {
		if b.Algorithm == "" {
			s.Zero()
			return nil, &SecretsError{Field: "backup.algorithm", Reason: "is missing"}
		}
		if b.BackupVersion == "" {
			s.Zero()
			return nil, &SecretsError{Field: "backup.backup_version", Reason: "is missing"}
		}
		key, err := parsePrivateKey("backup.key", b.Key)
		if err != nil {
			s.Zero()
			return nil, err
		}
		s.Backup = &BackupSecret{Algorithm: b.Algorithm, Key: key, Version: b.BackupVersion}
	}
	return s, nil
}

// Zero wipes every private key.
func (s *Secrets) Zero() {
	if s == nil {
		return
	}
	s.MasterKey.Zero()
	s.SelfSigningKey.Zero()
	s.UserSigningKey.Zero()
	if s.Backup != nil {
		s.Backup.Key.Zero()
	}
}

// String never reveals the keys.
func (s *Secrets) String() string {
	if s == nil {
		return "<nil>"
	}
	b := "none"
	if s.Backup != nil {
		b = fmt.Sprintf("{Algorithm:%q Key:[redacted] Version:%q}", s.Backup.Algorithm, s.Backup.Version)
	}
	return "Secrets{MasterKey:[redacted] SelfSigningKey:[redacted] UserSigningKey:[redacted] Backup:" + b + "}"
}

// GoString never reveals the keys.
func (s *Secrets) GoString() string { return s.String() }
