package matrix

import (
	"fmt"
	"slices"
	"strings"
)

// KeyMismatchError says which shared secret does not match what the server
// publishes (MSC4108 "Secret sharing and device verification": we verify
// before trusting, unlike rust-sdk, docs/protocol-divergences.md "New-device
// flow").
type KeyMismatchError struct {
	Key    string // "master", "self_signing", "user_signing", "backup" or "backup_version"
	Reason string
}

func (e *KeyMismatchError) Error() string {
	return fmt.Sprintf("matrix: the shared %s key does not match the server: %s", e.Key, e.Reason)
}

// VerifyCrossSigning derives the ed25519 public keys from the three shared
// seeds and compares each with the key the server publishes for userID in a
// /keys/query answer (Matrix spec "Cross-signing"): the object must belong to
// userID, carry the right usage and hold exactly that one key.
func VerifyCrossSigning(s *Secrets, userID string, q *KeysQueryResponse) error {
	for _, c := range []struct {
		name   string
		seed   *PrivateKey
		server map[string]CrossSigningKey
	}{
		{"master", s.MasterKey, q.MasterKeys},
		{"self_signing", s.SelfSigningKey, q.SelfSigningKeys},
		{"user_signing", s.UserSigningKey, q.UserSigningKeys},
	} {
		pub, err := c.seed.Ed25519PublicKey()
		if err != nil {
			return &KeyMismatchError{Key: c.name, Reason: err.Error()}
		}
		key, ok := c.server[userID]
		if !ok {
			return &KeyMismatchError{Key: c.name, Reason: "the server publishes no such key for " + userID}
		}
		if key.UserID != userID || !slices.Contains(key.Usage, c.name) {
			return &KeyMismatchError{Key: c.name, Reason: "the server's key object has the wrong user or usage"}
		}
		serverPub, err := key.PublicKey()
		if err != nil {
			return &KeyMismatchError{Key: c.name, Reason: err.Error()}
		}
		if serverPub != pub {
			return &KeyMismatchError{Key: c.name, Reason: "the public key derived from the shared seed differs from the published one"}
		}
	}
	return nil
}

// PublicKey returns the single ed25519 key of a cross-signing key object,
// checking that its key ID is "ed25519:" + the key itself.
func (k CrossSigningKey) PublicKey() (string, error) {
	if len(k.Keys) != 1 {
		return "", fmt.Errorf("the key object holds %d keys, not 1", len(k.Keys))
	}
	for id, pub := range k.Keys {
		if !strings.HasPrefix(id, "ed25519:") || id != "ed25519:"+pub {
			return "", fmt.Errorf("key ID %.60q does not name its key", id)
		}
		return pub, nil
	}
	return "", nil
}

// VerifyBackup checks the shared backup key against the server's current
// backup (GET /room_keys/version): same algorithm, the curve25519 public key
// derived from the shared private key equals auth_data.public_key, and the
// shared backup_version is the current version. A nil backup secret passes.
func VerifyBackup(b *BackupSecret, current *BackupVersion) error {
	if b == nil {
		return nil
	}
	if current == nil {
		return &KeyMismatchError{Key: "backup_version", Reason: "the server has no key backup"}
	}
	if b.Algorithm != current.Algorithm || b.Algorithm != BackupAlgorithmCurve25519 {
		return &KeyMismatchError{Key: "backup", Reason: fmt.Sprintf("algorithm %.60q, server uses %.60q", b.Algorithm, current.Algorithm)}
	}
	pub, err := b.Key.Curve25519PublicKey()
	if err != nil {
		return &KeyMismatchError{Key: "backup", Reason: err.Error()}
	}
	if !sameBase64(current.AuthData.PublicKey, pub) {
		return &KeyMismatchError{Key: "backup", Reason: "the public key derived from the shared key differs from auth_data.public_key"}
	}
	if b.Version != current.Version {
		return &KeyMismatchError{Key: "backup_version", Reason: fmt.Sprintf("shared version %.40q, current version %.40q", b.Version, current.Version)}
	}
	return nil
}

// sameBase64 compares two base64 strings by their bytes, so padding on the
// server's side does not matter.
func sameBase64(a, b string) bool {
	x, err1 := decodeBase64(a)
	y, err2 := decodeBase64(b)
	return err1 == nil && err2 == nil && len(x) > 0 && string(x) == string(y)
}
