package matrix

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"

	"golang.org/x/crypto/curve25519"
)

// PrivateKey is 32 bytes of secret key material: a cross-signing ed25519
// seed, a backup curve25519 private key or a pickle key. It never prints
// its bytes and can be zeroed. Pass it by pointer so Zero reaches the only
// copy.
type PrivateKey struct {
	b   [32]byte
	set bool
}

// NewPrivateKey returns 32 random bytes from crypto/rand.
func NewPrivateKey() *PrivateKey {
	k := &PrivateKey{set: true}
	rand.Read(k.b[:]) // never fails (crypto/rand, Go 1.24+)
	return k
}

// parsePrivateKey decodes unpadded standard base64 (padded accepted too) of
// exactly 32 bytes, as m.login.secrets carries them (MSC4108 "m.login.secrets").
func parsePrivateKey(field, s string) (*PrivateKey, error) {
	raw, err := decodeBase64(s)
	if err != nil || len(raw) != 32 {
		clear(raw)
		return nil, &SecretsError{Field: field, Reason: "is not the base64 of 32 bytes"}
	}
	k := &PrivateKey{set: true}
	copy(k.b[:], raw)
	clear(raw)
	return k, nil
}

func decodeBase64(s string) ([]byte, error) {
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.StdEncoding.DecodeString(s)
}

func encodeBase64(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }

// Bytes returns the key material; the caller must not keep it longer than
// needed.
func (k *PrivateKey) Bytes() []byte { return k.b[:] }

// IsZero reports whether the key is unset or was zeroed.
func (k *PrivateKey) IsZero() bool {
	return k == nil || !k.set || subtle.ConstantTimeCompare(k.b[:], make([]byte, 32)) == 1
}

// Zero wipes the key material.
func (k *PrivateKey) Zero() {
	if k != nil {
		clear(k.b[:])
		k.set = false
	}
}

// String never reveals the key.
func (k *PrivateKey) String() string { return "[redacted]" }

// GoString never reveals the key.
func (k *PrivateKey) GoString() string { return "[redacted]" }

// Format makes every fmt verb (%x included) print [redacted].
func (k *PrivateKey) Format(f fmt.State, _ rune) { f.Write([]byte("[redacted]")) }

// MarshalJSON never reveals the key.
func (k *PrivateKey) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

// errZeroKey guards against using a zeroed key.
var errZeroKey = errors.New("matrix: the private key was zeroed")

// Ed25519PublicKey derives the public key from an ed25519 seed (cross-signing
// keys are seeds, MSC4108 "m.login.secrets"), unpadded base64.
func (k *PrivateKey) Ed25519PublicKey() (string, error) {
	if k.IsZero() {
		return "", errZeroKey
	}
	priv := ed25519.NewKeyFromSeed(k.b[:])
	defer clear(priv)
	return encodeBase64(priv.Public().(ed25519.PublicKey)), nil
}

// Curve25519PublicKey derives the public key of a curve25519 private key
// (the m.megolm_backup.v1.curve25519-aes-sha2 backup key), unpadded base64.
func (k *PrivateKey) Curve25519PublicKey() (string, error) {
	if k.IsZero() {
		return "", errZeroKey
	}
	pub, err := curve25519.X25519(k.b[:], curve25519.Basepoint)
	if err != nil {
		return "", err
	}
	return encodeBase64(pub), nil
}

// signEd25519 signs message with the ed25519 seed k; unpadded base64.
func (k *PrivateKey) signEd25519(message []byte) (string, error) {
	if k.IsZero() {
		return "", errZeroKey
	}
	priv := ed25519.NewKeyFromSeed(k.b[:])
	defer clear(priv)
	return encodeBase64(ed25519.Sign(priv, message)), nil
}
