package devserver

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"strconv"
)

// BackupAlgorithm is the megolm backup algorithm of the test account.
const BackupAlgorithm = "m.megolm_backup.v1.curve25519-aes-sha2"

// firstBackupVersion is the version of the test account's first key
// backup; ReplaceBackup counts up from it.
const firstBackupVersion = 1

// crossSigningKey is a cross-signing public key as /keys/query publishes it
// (C-S spec "Cross-signing": user_id, usage, keys, signatures).
type crossSigningKey struct {
	UserID     string            `json:"user_id"`
	Usage      []string          `json:"usage"`
	Keys       map[string]string `json:"keys"`
	Signatures signatureMap      `json:"signatures,omitempty"`
}

// backupAuthData is auth_data of m.megolm_backup.v1.curve25519-aes-sha2.
type backupAuthData struct {
	PublicKey  string       `json:"public_key"`
	Signatures signatureMap `json:"signatures,omitempty"`
}

// account is the one test user with a real cross-signing identity and a key
// backup. The private keys stay here so the scripted phone can share them
// (MSC4108 "Secret sharing and device verification").
type account struct {
	userID       string
	master       ed25519.PrivateKey
	selfSigning  ed25519.PrivateKey
	userSigning  ed25519.PrivateKey
	backup       *ecdh.PrivateKey // nil when the account has no backup
	masterKey    crossSigningKey
	selfKey      crossSigningKey
	userKey      crossSigningKey
	backupAuth   backupAuthData
	backupSecret []byte // the raw 32 bytes behind backup, for zeroing
	// backupVersion is the current backup's version; it keeps counting
	// after DeleteBackup, as a server's backup versions do.
	backupVersion int
}

// newAccount generates the identity of userID. The self-signing and
// user-signing keys are signed by the master key; the backup's auth_data is
// signed by the master key too, as Element does, so clients trust it.
func newAccount(userID string, withBackup bool) (*account, error) {
	a := &account{userID: userID}
	var err error
	if a.master, err = newEd25519(); err != nil {
		return nil, err
	}
	if a.selfSigning, err = newEd25519(); err != nil {
		return nil, err
	}
	if a.userSigning, err = newEd25519(); err != nil {
		return nil, err
	}
	masterPub := publicKeyB64(a.master)
	masterKeyID := "ed25519:" + masterPub
	a.masterKey = crossSigningKey{UserID: userID, Usage: []string{"master"},
		Keys: map[string]string{masterKeyID: masterPub}}
	for _, k := range []struct {
		dst   *crossSigningKey
		key   ed25519.PrivateKey
		usage string
	}{{&a.selfKey, a.selfSigning, "self_signing"}, {&a.userKey, a.userSigning, "user_signing"}} {
		pub := publicKeyB64(k.key)
		*k.dst = crossSigningKey{UserID: userID, Usage: []string{k.usage},
			Keys: map[string]string{"ed25519:" + pub: pub}}
		sig, err := signObject(*k.dst, a.master)
		if err != nil {
			return nil, err
		}
		k.dst.Signatures = k.dst.Signatures.add(userID, masterKeyID, sig)
	}
	a.backupVersion = firstBackupVersion - 1
	if withBackup {
		if err := a.newBackup(); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// newBackup replaces the key backup (if any) with one under a fresh key and
// the next version.
func (a *account) newBackup() error {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	backup, err := ecdh.X25519().NewPrivateKey(secret)
	if err != nil {
		return fmt.Errorf("backup key: %w", err)
	}
	auth := backupAuthData{PublicKey: unpaddedBase64.EncodeToString(backup.PublicKey().Bytes())}
	sig, err := signObject(auth, a.master)
	if err != nil {
		return err
	}
	auth.Signatures = auth.Signatures.add(a.userID, "ed25519:"+publicKeyB64(a.master), sig)
	a.deleteBackup()
	a.backup, a.backupSecret, a.backupAuth = backup, secret, auth
	a.backupVersion++
	return nil
}

// deleteBackup removes the key backup and wipes its key.
func (a *account) deleteBackup() {
	clear(a.backupSecret)
	a.backup, a.backupSecret, a.backupAuth = nil, nil, backupAuthData{}
}

// currentBackupVersion is the backup's version as room_keys/version
// answers it.
func (a *account) currentBackupVersion() string { return strconv.Itoa(a.backupVersion) }

func newEd25519() (ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("ed25519 key: %w", err)
	}
	return priv, nil
}

func publicKeyB64(k ed25519.PrivateKey) string {
	return unpaddedBase64.EncodeToString(k.Public().(ed25519.PublicKey))
}

// selfSigningPublicKey is the unpadded base64 self-signing public key.
func (a *account) selfSigningPublicKey() string { return publicKeyB64(a.selfSigning) }

// zero wipes the private keys.
func (a *account) zero() {
	for _, k := range [][]byte{a.master, a.selfSigning, a.userSigning, a.backupSecret} {
		clear(k)
	}
	a.backup = nil
}

// AccountSecrets are the test account's private keys in the form
// m.login.secrets carries them (docs/protocol-divergences.md
// "m.login.secrets"): each the unpadded standard base64 of the 32-byte seed
// or key.
type AccountSecrets struct {
	UserID string
	// MasterKey, SelfSigningKey and UserSigningKey are ed25519 seeds.
	MasterKey      Secret
	SelfSigningKey Secret
	UserSigningKey Secret
	// BackupKey is the curve25519 backup decryption key; empty (and
	// BackupVersion too) when the server runs without a backup.
	BackupKey       Secret
	BackupAlgorithm string
	BackupVersion   string
}

// HasBackup says whether the secrets include a key backup.
func (s AccountSecrets) HasBackup() bool { return s.BackupKey != "" }

func (a *account) secrets() AccountSecrets {
	s := AccountSecrets{
		UserID:         a.userID,
		MasterKey:      Secret(unpaddedBase64.EncodeToString(a.master.Seed())),
		SelfSigningKey: Secret(unpaddedBase64.EncodeToString(a.selfSigning.Seed())),
		UserSigningKey: Secret(unpaddedBase64.EncodeToString(a.userSigning.Seed())),
	}
	if a.backup != nil {
		s.BackupKey = Secret(unpaddedBase64.EncodeToString(a.backup.Bytes()))
		s.BackupAlgorithm = BackupAlgorithm
		s.BackupVersion = a.currentBackupVersion()
	}
	return s
}

// CrossSigningPublicKeys are the test account's public keys (unpadded
// base64), as /keys/query publishes them.
type CrossSigningPublicKeys struct {
	Master, SelfSigning, UserSigning string
	// Backup is the backup's curve25519 public key; "" without a backup.
	Backup string
}

func (a *account) publicKeys() CrossSigningPublicKeys {
	return CrossSigningPublicKeys{
		Master:      publicKeyB64(a.master),
		SelfSigning: publicKeyB64(a.selfSigning),
		UserSigning: publicKeyB64(a.userSigning),
		Backup:      a.backupAuth.PublicKey,
	}
}
