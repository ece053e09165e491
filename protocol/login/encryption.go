package login

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

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

// whoami asks the homeserver who the new access token belongs to.
func (f *Flow) whoami(ctx context.Context, base, accessToken string) (string, error) {
	w, err := matrix.NewClient(f.cfg.HTTP, base, accessToken).Whoami(ctx)
	if err != nil {
		return "", fmt.Errorf("login: the new session does not work: %w", err)
	}
	return w.UserID, nil
}

// finishEncryption checks the phone's secrets against the keys the server
// publishes (MSC4108 "Secret sharing and device verification"; rust-sdk
// imports them unchecked, we do not), creates the device's Olm identity,
// and uploads its keys signed by the device key and, when the secrets were
// verified, by the self-signing key, with a signed fallback key, in one
// /keys/upload. A mismatch is a warning: the sign-in finishes unverified
// and nothing from that bundle is kept.
func (f *Flow) finishEncryption(ctx context.Context, res *Result, secretsRaw []byte) error {
	mc := matrix.NewClient(f.cfg.HTTP, res.Homeserver, res.Token.AccessToken)
	var secrets *matrix.Secrets
	if secretsRaw != nil {
		s, err := matrix.ParseSecrets(secretsRaw)
		if err == nil {
			err = f.verifySecrets(ctx, mc, res.UserID, s)
		}
		if err != nil {
			if s != nil {
				s.Zero()
			}
			f.emit(Warning{Code: "secrets_mismatch", Message: "The encryption keys from your phone do not match the ones your server publishes, so they were not saved. This computer is signed in but not verified."})
		} else {
			secrets = s
		}
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

// verifySecrets compares the phone's secrets with the server's public keys.
func (f *Flow) verifySecrets(ctx context.Context, mc *matrix.Client, userID string, s *matrix.Secrets) error {
	q, err := mc.QueryKeys(ctx, userID)
	if err != nil {
		return err
	}
	if err := matrix.VerifyCrossSigning(s, userID, q); err != nil {
		return err
	}
	if s.Backup == nil {
		return nil
	}
	current, err := mc.RoomKeysVersion(ctx)
	if err != nil {
		return err
	}
	if current == nil {
		return errors.New("login: the phone sent a backup key but the server has no key backup")
	}
	return matrix.VerifyBackup(s.Backup, current)
}
