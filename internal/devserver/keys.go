package devserver

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/qrlogin/qrlogin/protocol/matrix"
)

// deviceKeys is the device_keys object of /keys/upload (C-S spec "Device
// keys"), the fields the shape check needs; the raw JSON is what is kept
// and published, byte for byte.
type deviceKeys struct {
	UserID     string            `json:"user_id"`
	DeviceID   string            `json:"device_id"`
	Algorithms []string          `json:"algorithms"`
	Keys       map[string]string `json:"keys"`
	Signatures signatureMap      `json:"signatures"`
}

// keysUploadRequest is the body of POST /keys/upload.
type keysUploadRequest struct {
	DeviceKeys   json.RawMessage            `json:"device_keys"`
	OneTimeKeys  map[string]json.RawMessage `json:"one_time_keys"`
	FallbackKeys map[string]json.RawMessage `json:"fallback_keys"`
}

// keysUpload is a checked /keys/upload request.
type keysUpload struct {
	deviceKeys json.RawMessage // nil when the request has none
	ed25519    string          // the device's ed25519 key (unpadded base64)
	// oneTimeKeyCounts counts the uploaded one-time keys by algorithm.
	oneTimeKeyCounts map[string]int
}

// KeysError is a /keys/upload body the server refuses; its text goes to the
// client with M_BAD_JSON (shape) or M_INVALID_PARAM (wrong user/device).
type KeysError struct {
	ErrCode string
	Reason  string
}

func (e *KeysError) Error() string { return e.ErrCode + ": " + e.Reason }

func badKeys(format string, args ...any) error {
	return &KeysError{ErrCode: "M_BAD_JSON", Reason: fmt.Sprintf(format, args...)}
}

// parseKeysUpload checks a /keys/upload body sent by userID's deviceID:
// device_keys, when present, must belong to that user and device, list
// algorithms, carry unpadded-base64 32-byte ed25519:<device> and
// curve25519:<device> keys, and be signed by the device's own key (whether
// that signature verifies is reported separately, see Device).
func parseKeysUpload(body []byte, userID, deviceID string) (keysUpload, error) {
	var out keysUpload
	var req keysUploadRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return out, badKeys("body is not a keys/upload object: %v", err)
	}
	out.oneTimeKeyCounts = map[string]int{}
	for keyID, key := range req.OneTimeKeys {
		algorithm, _, ok := strings.Cut(keyID, ":")
		if !ok || algorithm == "" || len(key) == 0 {
			return out, badKeys("one-time key ID %q is not <algorithm>:<id>", keyID)
		}
		out.oneTimeKeyCounts[algorithm]++
	}
	for keyID := range req.FallbackKeys {
		if _, _, ok := strings.Cut(keyID, ":"); !ok {
			return out, badKeys("fallback key ID %q is not <algorithm>:<id>", keyID)
		}
	}
	if len(req.DeviceKeys) == 0 || string(req.DeviceKeys) == "null" {
		return out, nil
	}
	var dk deviceKeys
	if err := json.Unmarshal(req.DeviceKeys, &dk); err != nil {
		return out, badKeys("device_keys is not a device keys object: %v", err)
	}
	if dk.UserID != userID || dk.DeviceID != deviceID {
		return out, &KeysError{ErrCode: "M_INVALID_PARAM", Reason: fmt.Sprintf(
			"device_keys are for %s %s, but the access token is %s %s", dk.UserID, dk.DeviceID, userID, deviceID)}
	}
	if len(dk.Algorithms) == 0 {
		return out, badKeys("device_keys.algorithms is empty")
	}
	for _, algorithm := range []string{"ed25519", "curve25519"} {
		keyID := algorithm + ":" + deviceID
		raw, err := unpaddedBase64.DecodeString(dk.Keys[keyID])
		if err != nil || len(raw) != 32 {
			return out, badKeys("device_keys.keys[%q] must be unpadded base64 of 32 bytes", keyID)
		}
	}
	if _, ok := dk.Signatures[userID]["ed25519:"+deviceID]; !ok {
		return out, badKeys("device_keys must be signed by ed25519:%s", deviceID)
	}
	out.deviceKeys = append(json.RawMessage(nil), req.DeviceKeys...)
	out.ed25519 = dk.Keys["ed25519:"+deviceID]
	return out, nil
}

// verifyDeviceKeys reports whether the device's own signature and the
// account's self-signing signature verify on the uploaded device_keys
// (spec appendix "Checking for a signature", via protocol/matrix).
func verifyDeviceKeys(raw json.RawMessage, userID, deviceID, deviceEd25519, selfSigningPub string) (selfSigned, crossSigned bool) {
	selfSigned = matrix.VerifyJSON(raw, userID, "ed25519:"+deviceID, deviceEd25519) == nil
	crossSigned = matrix.VerifyJSON(raw, userID, "ed25519:"+selfSigningPub, selfSigningPub) == nil
	return selfSigned, crossSigned
}
