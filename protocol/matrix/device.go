package matrix

import (
	"errors"
	"fmt"

	"maunium.net/go/mautrix/crypto/goolm/account"
)

// Algorithms a new device announces (Matrix spec "Device keys"; MSC4108
// "Secret sharing" step 3 example).
var deviceAlgorithms = []string{"m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"}

var errZeroedIdentity = errors.New("matrix: the device identity was zeroed")

// DeviceIdentity is the new device's Olm account (pure-Go goolm from
// maunium.net/go/mautrix v0.32.0) with the IDs it is bound to. String never
// prints key material. Call Zero when done with it.
type DeviceIdentity struct {
	UserID   string
	DeviceID string
	account  *account.Account
}

// NewDeviceIdentity creates a fresh Olm account (ed25519 + curve25519
// identity keys) and one fallback key for userID/deviceID
// (docs/protocol-divergences.md "New-device flow"; our device ID is the
// random [A-Z0-9] one, not the curve25519 key, see "Device ID" there).
func NewDeviceIdentity(userID, deviceID string) (*DeviceIdentity, error) {
	if userID == "" || deviceID == "" {
		return nil, errors.New("matrix: device identity needs a user ID and a device ID")
	}
	acc, err := account.NewAccount()
	if err != nil {
		return nil, fmt.Errorf("matrix: creating the Olm account: %w", err)
	}
	if err := acc.GenFallbackKey(); err != nil {
		return nil, fmt.Errorf("matrix: creating the fallback key: %w", err)
	}
	return &DeviceIdentity{UserID: userID, DeviceID: deviceID, account: acc}, nil
}

// IdentityKeys returns the device's public ed25519 and curve25519 keys,
// unpadded base64.
func (d *DeviceIdentity) IdentityKeys() (ed25519, curve25519 string) {
	if d.account == nil {
		return "", ""
	}
	ed, curve, _ := d.account.IdentityKeys()
	return string(ed), string(curve)
}

// DeviceKeys returns the unsigned device_keys object (Matrix spec "Device
// keys"): user_id, device_id, algorithms and keys
// curve25519:<device_id> / ed25519:<device_id>.
func (d *DeviceIdentity) DeviceKeys() *DeviceKeys {
	ed, curve := d.IdentityKeys()
	return &DeviceKeys{
		UserID:     d.UserID,
		DeviceID:   d.DeviceID,
		Algorithms: append([]string(nil), deviceAlgorithms...),
		Keys: map[string]string{
			"curve25519:" + d.DeviceID: curve,
			"ed25519:" + d.DeviceID:    ed,
		},
	}
}

// sign signs v with the device's ed25519 identity key.
func (d *DeviceIdentity) sign(v any) (string, error) {
	msg, err := SigningBytes(v)
	if err != nil {
		return "", err
	}
	sig, err := d.account.Sign(msg)
	if err != nil {
		return "", err
	}
	return string(sig), nil
}

// KeysUpload builds the single /keys/upload body of MSC4108 "Secret sharing
// and device verification" step 3: the device keys signed by the device's
// ed25519 key and — if selfSigning is not nil — by the self-signing key
// (signatures[user]["ed25519:<self-signing public key>"]), plus the fallback
// key as signed_curve25519 with fallback:true, signed by the device key.
// Call MarkPublished after the upload succeeded.
func (d *DeviceIdentity) KeysUpload(selfSigning *PrivateKey) (*KeysUpload, error) {
	if d.account == nil {
		return nil, errZeroedIdentity
	}
	dk := d.DeviceKeys()
	devSig, err := d.sign(dk)
	if err != nil {
		return nil, err
	}
	dk.Signatures = map[string]map[string]string{d.UserID: {"ed25519:" + d.DeviceID: devSig}}
	if selfSigning != nil {
		sskPub, err := selfSigning.Ed25519PublicKey()
		if err != nil {
			return nil, err
		}
		sskSig, err := SignJSON(dk, selfSigning)
		if err != nil {
			return nil, err
		}
		dk.Signatures[d.UserID]["ed25519:"+sskPub] = sskSig
	}
	up := &KeysUpload{DeviceKeys: dk}
	for keyID, pub := range d.account.FallbackKeyUnpublished() {
		k := SignedKey{Key: string(pub), Fallback: true}
		sig, err := d.sign(k)
		if err != nil {
			return nil, err
		}
		k.Signatures = map[string]map[string]string{d.UserID: {"ed25519:" + d.DeviceID: sig}}
		up.FallbackKeys = map[string]SignedKey{"signed_curve25519:" + keyID: k}
	}
	return up, nil
}

// MarkPublished records that the fallback key was uploaded, so the next
// KeysUpload does not repeat it.
func (d *DeviceIdentity) MarkPublished() {
	if d.account != nil {
		d.account.MarkKeysAsPublished()
	}
}

// Pickle serialises the Olm account encrypted with key (goolm's libolm-
// compatible pickle, base64), for the app to keep in the keyring together
// with a fresh NewPrivateKey pickle key.
func (d *DeviceIdentity) Pickle(key *PrivateKey) ([]byte, error) {
	if d.account == nil {
		return nil, errZeroedIdentity
	}
	if key.IsZero() {
		return nil, errZeroKey
	}
	return d.account.Pickle(key.Bytes())
}

// UnpickleDeviceIdentity restores a DeviceIdentity saved with Pickle.
func UnpickleDeviceIdentity(userID, deviceID string, pickled []byte, key *PrivateKey) (*DeviceIdentity, error) {
	if key.IsZero() {
		return nil, errZeroKey
	}
	acc, err := account.AccountFromPickled(pickled, key.Bytes())
	if err != nil {
		return nil, fmt.Errorf("matrix: the stored Olm account cannot be read: %w", err)
	}
	return &DeviceIdentity{UserID: userID, DeviceID: deviceID, account: acc}, nil
}

// Zero wipes the private keys held by the Olm account (best effort: goolm
// keeps them in byte slices we can reach).
func (d *DeviceIdentity) Zero() {
	if d == nil || d.account == nil {
		return
	}
	a := d.account
	clear(a.IdKeys.Ed25519.PrivateKey)
	clear(a.IdKeys.Curve25519.PrivateKey)
	clear(a.CurrentFallbackKey.Key.PrivateKey)
	clear(a.PrevFallbackKey.Key.PrivateKey)
	for i := range a.OTKeys {
		clear(a.OTKeys[i].Key.PrivateKey)
	}
	d.account = nil
}

func (d *DeviceIdentity) String() string {
	return fmt.Sprintf("DeviceIdentity{UserID:%q DeviceID:%q Account:[redacted]}", d.UserID, d.DeviceID)
}

// GoString never prints the account's private keys.
func (d *DeviceIdentity) GoString() string { return d.String() }
