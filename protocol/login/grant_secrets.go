package login

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/qrlogin/qrlogin/protocol/matrix"
	"github.com/qrlogin/qrlogin/protocol/msc4108"
)

// secretKeySize is the size of each cross-signing seed and of the backup
// key.
const secretKeySize = 32

// String keeps the keys out of logs.
func (GrantSecrets) String() string { return "GrantSecrets{[redacted]}" }

// GoString keeps the keys out of %#v.
func (s GrantSecrets) GoString() string { return s.String() }

// Format covers every verb: %d, %x, %o ... would otherwise print the key
// bytes, or String's text in hex.
func (s GrantSecrets) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

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

// messageJSON is m.login.secrets, encoded: each key as unpadded standard
// base64 (docs/protocol-divergences.md "m.login.secrets"), backup omitted
// when the account has none, with the members in the order the msc4108
// wire type marshals them. It is written into one buffer of exactly its
// size, never through a Go string (which could not be cleared) or a
// buffer that grows (which would leave a copy behind): the caller sends
// it and clears it.
func (s *GrantSecrets) messageJSON() []byte {
	type part struct {
		text   []byte // written as it is
		secret []byte // written as unpadded standard base64
		isKey  bool
	}
	lit := func(t string) part { return part{text: []byte(t)} }
	key := func(k []byte) part { return part{secret: k, isKey: true} }
	quoted := func(v string) part {
		b, _ := json.Marshal(v) // a string always marshals
		return part{text: b}
	}
	parts := []part{
		lit(`{"type":`), quoted(msc4108.TypeSecrets),
		lit(`,"cross_signing":{"master_key":"`), key(s.MasterKey),
		lit(`","self_signing_key":"`), key(s.SelfSigningKey),
		lit(`","user_signing_key":"`), key(s.UserSigningKey),
		lit(`"}`),
	}
	if s.BackupKey != nil {
		parts = append(parts,
			lit(`,"backup":{"algorithm":`), quoted(matrix.BackupAlgorithmCurve25519),
			lit(`,"key":"`), key(s.BackupKey),
			lit(`","backup_version":`), quoted(s.BackupVersion),
			lit(`}`))
	}
	parts = append(parts, lit(`}`))

	enc := base64.RawStdEncoding
	size := 0
	for _, p := range parts {
		if p.isKey {
			size += enc.EncodedLen(len(p.secret))
		} else {
			size += len(p.text)
		}
	}
	b := make([]byte, size)
	at := 0
	for _, p := range parts {
		if p.isKey {
			enc.Encode(b[at:], p.secret)
			at += enc.EncodedLen(len(p.secret))
		} else {
			at += copy(b[at:], p.text)
		}
	}
	return b
}

// WarningSecretsNotShared is the warning a grant given no secrets emits:
// the new device gets no keys and must be verified another way.
const WarningSecretsNotShared = "secrets_not_shared"

// shareSecrets sends m.login.secrets (MSC4108 "2. Existing device shares
// secrets with new device") when this computer holds the account's
// verified secrets, and reports whether it did. Without them nothing is
// sent, and the user hears that the new device must be verified another
// way.
func (g *Grant) shareSecrets(ctx context.Context) (bool, error) {
	s := g.cfg.Secrets
	if s == nil {
		g.emit(Warning{Code: WarningSecretsNotShared, Message: "This account is not verified on this computer, so its encryption keys were not shared. Verify the new device separately, for example from another device that is verified."})
		return false, nil
	}
	if err := g.sendEncoded(ctx, s.messageJSON()); err != nil {
		return false, g.otherWroteFirst(ctx, err, msc4108.TypeSecrets)
	}
	g.emit(SecretsShared{CrossSigning: true, Backup: s.BackupKey != nil})
	return true, nil
}
