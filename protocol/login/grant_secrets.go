package login

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/qrlogin/qrlogin/protocol/msc4108"
)

// backupAlgorithm is the only key-backup algorithm Matrix defines, the one
// m.login.secrets names (MSC4108 "2. Existing device shares secrets with
// new device"; docs/protocol-divergences.md "m.login.secrets").
const backupAlgorithm = "m.megolm_backup.v1.curve25519-aes-sha2"

// secretKeySize is the size of each cross-signing seed and of the backup
// key.
const secretKeySize = 32

// String keeps the keys out of logs.
func (GrantSecrets) String() string { return "GrantSecrets{[redacted]}" }

// GoString keeps the keys out of %#v.
func (s GrantSecrets) GoString() string { return s.String() }

// check refuses secrets that are not whole keys (nil secrets are fine:
// nothing is shared).
func (s *GrantSecrets) check() error {
	if s == nil {
		return nil
	}
	for _, k := range []struct {
		name string
		key  []byte
	}{{"master", s.MasterKey}, {"self-signing", s.SelfSigningKey}, {"user-signing", s.UserSigningKey}} {
		if len(k.key) != secretKeySize {
			return fmt.Errorf("login: the %s key to share has %d bytes, want %d", k.name, len(k.key), secretKeySize)
		}
	}
	switch {
	case s.BackupKey == nil && s.BackupVersion != "":
		return errors.New("login: a backup version to share without its backup key")
	case s.BackupKey != nil && len(s.BackupKey) != secretKeySize:
		return fmt.Errorf("login: the backup key to share has %d bytes, want %d", len(s.BackupKey), secretKeySize)
	case s.BackupKey != nil && s.BackupVersion == "":
		// matrix-rust-sdk refuses a backup key without its version too
		// (docs/protocol-divergences.md "m.login.secrets").
		return errors.New("login: a backup key to share without its backup version")
	}
	return nil
}

// zero wipes the keys.
func (s *GrantSecrets) zero() {
	if s == nil {
		return
	}
	for _, k := range [][]byte{s.MasterKey, s.SelfSigningKey, s.UserSigningKey, s.BackupKey} {
		clear(k)
	}
}

// message is m.login.secrets: each key as unpadded standard base64
// (docs/protocol-divergences.md "m.login.secrets"), backup omitted when the
// account has none.
func (s *GrantSecrets) message() msc4108.Secrets {
	b64 := base64.RawStdEncoding.EncodeToString
	m := msc4108.Secrets{
		Type: msc4108.TypeSecrets,
		CrossSigning: msc4108.CrossSigningSecret{
			MasterKey: b64(s.MasterKey), SelfSigningKey: b64(s.SelfSigningKey), UserSigningKey: b64(s.UserSigningKey),
		},
	}
	if s.BackupKey != nil {
		m.Backup = &msc4108.BackupSecret{Algorithm: backupAlgorithm, Key: b64(s.BackupKey), BackupVersion: s.BackupVersion}
	}
	return m
}

// shareSecrets sends m.login.secrets (MSC4108 "2. Existing device shares
// secrets with new device") when this computer holds the account's
// verified secrets, and reports whether it did. Without them nothing is
// sent, and the user hears that the new device must be verified another
// way.
func (g *Grant) shareSecrets(ctx context.Context) (bool, error) {
	s := g.cfg.Secrets
	if s == nil {
		g.emit(Warning{Code: "secrets_not_shared", Message: "This account is not verified on this computer, so its encryption keys were not shared. Verify the new device separately, for example from another device that is verified."})
		return false, nil
	}
	if err := g.send(ctx, s.message()); err != nil {
		return false, g.otherWroteFirst(ctx, err, msc4108.TypeSecrets)
	}
	g.emit(SecretsShared{CrossSigning: true, Backup: s.BackupKey != nil})
	return true, nil
}
