package login

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/qrlogin/qrlogin/protocol/internal/httpx"
	"github.com/qrlogin/qrlogin/protocol/matrix"
)

// VerifiedSecrets are the phone's secrets after they matched the keys the
// server publishes. Zero them when stored.
type VerifiedSecrets struct {
	s *matrix.Secrets
}

// Export returns the secrets as the keyring keeps them: unpadded base64.
func (v *VerifiedSecrets) Export() (master, selfSigning, userSigning, backupKey, backupVersion string) {
	if v == nil || v.s == nil {
		return
	}
	master, selfSigning, userSigning = b64(v.s.MasterKey), b64(v.s.SelfSigningKey), b64(v.s.UserSigningKey)
	if v.s.Backup != nil {
		backupKey, backupVersion = b64(v.s.Backup.Key), v.s.Backup.Version
	}
	return
}

// Zero wipes the secrets from memory.
func (v *VerifiedSecrets) Zero() {
	if v != nil && v.s != nil {
		v.s.Zero()
	}
}

// OlmIdentity is the device's Olm account, pickled for the keyring, so a
// client that adopts this session can use the device.
type OlmIdentity struct {
	pickle string
	key    string
}

// Export returns the pickled Olm account and its pickle key (base64).
func (o *OlmIdentity) Export() (pickle, key string) { return o.pickle, o.key }

func b64(k *matrix.PrivateKey) string {
	if k == nil {
		return ""
	}
	return base64.RawStdEncoding.EncodeToString(k.Bytes())
}

// whoami asks the homeserver whose the new access token is, and for which
// device.
func (f *Flow) whoami(ctx context.Context, base, accessToken string) (*matrix.Whoami, error) {
	w, err := matrix.NewClient(f.cfg.HTTP, base, accessToken).Whoami(ctx)
	if err != nil {
		return nil, fmt.Errorf("login: the new session does not work: %w", err)
	}
	return w, nil
}

// finishEncryption checks the phone's secrets against the keys the server
// publishes (MSC4108 "Secret sharing and device verification"; rust-sdk
// imports them unchecked, we do not), creates the device's Olm identity,
// and uploads its keys signed by the device key and, when the cross-signing
// keys were verified, by the self-signing key, with a signed fallback key,
// in one /keys/upload. A mismatch is a warning, and only what did not match
// is dropped (checkSecrets).
func (f *Flow) finishEncryption(ctx context.Context, res *Result, secretsRaw []byte) error {
	defer clear(secretsRaw) // the decrypted JSON holds every private key
	mc := matrix.NewClient(f.cfg.HTTP, res.Homeserver, res.Token.AccessToken)
	var secrets *matrix.Secrets
	defer func() {
		if secrets != nil && res.Secrets == nil {
			secrets.Zero() // not handed over: an error on the way
		}
	}()
	if secretsRaw != nil {
		secrets = f.checkSecrets(ctx, mc, res.UserID, secretsRaw)
	}

	identity, err := matrix.NewDeviceIdentity(res.UserID, res.DeviceID)
	if err != nil {
		return err
	}
	defer identity.Zero()
	var selfSigning *matrix.PrivateKey
	if secrets != nil {
		selfSigning = secrets.SelfSigningKey
	}
	upload, err := identity.KeysUpload(selfSigning)
	if err != nil {
		return err
	}
	uploaded := true
	if _, err := mc.UploadKeys(ctx, upload); err != nil {
		uploaded = false
		f.emit(Warning{Code: "keys_upload_failed", Message: "This computer's encryption keys could not be published; other devices will not trust it until you verify it."})
	} else {
		identity.MarkPublished()
	}
	pickleKey := matrix.NewPrivateKey()
	defer pickleKey.Zero()
	pickled, err := identity.Pickle(pickleKey)
	if err != nil {
		return err
	}
	res.Olm = &OlmIdentity{pickle: string(pickled), key: b64(pickleKey)}
	if secrets != nil {
		res.Secrets = &VerifiedSecrets{s: secrets}
		res.CrossSigning = true
		res.Backup = secrets.Backup != nil
		res.Verified = uploaded
	}
	return nil
}

// checkSecrets parses the phone's secrets and returns what matches the
// server, nil when nothing does. The cross-signing keys and the backup key
// are checked apart: cross-signing keys that do not match (or that the
// server could not be asked about) drop the whole bundle with a warning; a
// backup key that does not match the server's current backup drops only
// itself, with its own warning. A backup can change on the server while a
// phone keeps the old key (replaced, or turned off, on another device), and
// that says nothing against the cross-signing keys, which verified.
func (f *Flow) checkSecrets(ctx context.Context, mc *matrix.Client, userID string, raw []byte) *matrix.Secrets {
	s, err := matrix.ParseSecrets(raw)
	if err == nil {
		err = retryServerTrouble(ctx, func() error { return verifyCrossSigning(ctx, mc, userID, s) })
	}
	if err != nil {
		s.Zero()
		if isServerTrouble(err) {
			f.emit(Warning{Code: "secrets_unverified", Message: "Your server could not be asked whether the encryption keys from your phone are genuine, so they were not saved. This computer is signed in but not verified."})
		} else {
			f.emit(Warning{Code: "secrets_mismatch", Message: "The encryption keys from your phone do not match the ones your server publishes, so they were not saved. This computer is signed in but not verified."})
		}
		return nil
	}
	if s.Backup == nil {
		return s
	}
	if err := retryServerTrouble(ctx, func() error { return verifyBackup(ctx, mc, s.Backup) }); err != nil {
		s.Backup.Key.Zero()
		s.Backup = nil
		if isServerTrouble(err) {
			f.emit(Warning{Code: "backup_unverified", Message: "Your server could not be asked whether the key to your message backup from your phone is genuine, so that key was not saved. Your other encryption keys were checked and kept."})
		} else {
			f.emit(Warning{Code: "backup_mismatch", Message: "The key to your message backup from your phone does not match the backup on your server (it may have been replaced or turned off), so that key was not saved. Your other encryption keys were checked and kept."})
		}
	}
	return s
}

// retryServerTrouble runs check, and again (up to three times, a second
// apart) while the server answers 5xx or cannot be reached: a moment of
// server trouble must not be mistaken for keys that do not match (found by
// the e2e fault tests; the matrix client already retries 429 itself).
func retryServerTrouble(ctx context.Context, check func() error) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if attempt > 0 && httpx.Sleep(ctx, time.Second) != nil {
			return err
		}
		if err = check(); err == nil || !isServerTrouble(err) {
			return err
		}
	}
	return err
}

// isServerTrouble tells a failed request (5xx, 429, no answer) apart from
// an answer that contradicts the phone's secrets.
func isServerTrouble(err error) bool {
	var me *matrix.Error
	if errors.As(err, &me) {
		return me.Status >= 500 || me.Status == 429
	}
	var ue *url.Error
	var ne net.Error
	return errors.As(err, &ue) || errors.As(err, &ne)
}

// verifyCrossSigning compares the phone's cross-signing seeds with the
// public keys the server publishes for userID.
func verifyCrossSigning(ctx context.Context, mc *matrix.Client, userID string, s *matrix.Secrets) error {
	q, err := mc.QueryKeys(ctx, userID)
	if err != nil {
		return err
	}
	return matrix.VerifyCrossSigning(s, userID, q)
}

// verifyBackup compares the phone's backup key with the server's current
// backup (GET room_keys/version): none there is a mismatch too.
func verifyBackup(ctx context.Context, mc *matrix.Client, b *matrix.BackupSecret) error {
	current, err := mc.RoomKeysVersion(ctx)
	if err != nil {
		return err
	}
	return matrix.VerifyBackup(b, current)
}
