package matrix

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// Whoami is the answer of GET /_matrix/client/v3/account/whoami.
type Whoami struct {
	UserID   string `json:"user_id"`
	DeviceID string `json:"device_id"`
}

// Whoami asks who the access token belongs to (Matrix spec
// "GET /_matrix/client/v3/account/whoami"; docs/protocol-divergences.md
// "New-device flow").
func (c *Client) Whoami(ctx context.Context) (*Whoami, error) {
	var w Whoami
	if err := c.do(ctx, http.MethodGet, "/_matrix/client/v3/account/whoami", nil, &w); err != nil {
		return nil, err
	}
	if w.UserID == "" {
		return nil, fmt.Errorf("matrix: whoami answer has no user_id")
	}
	return &w, nil
}

// Device is the answer of GET /_matrix/client/v3/devices/{deviceId}.
type Device struct {
	DeviceID    string `json:"device_id"`
	DisplayName string `json:"display_name,omitempty"`
}

// Device fetches one of the account's devices (Matrix spec
// "GET /_matrix/client/v3/devices/{deviceId}"; MSC4108 step 4 and "Secret
// sharing" step 1). A missing device is a 404 *Error (IsNotFound).
func (c *Client) Device(ctx context.Context, deviceID string) (*Device, error) {
	var d Device
	if err := c.do(ctx, http.MethodGet, "/_matrix/client/v3/devices/"+pathEscape(deviceID), nil, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// DeviceKeys is a device_keys object (Matrix spec "Device keys").
type DeviceKeys struct {
	UserID     string                       `json:"user_id"`
	DeviceID   string                       `json:"device_id"`
	Algorithms []string                     `json:"algorithms"`
	Keys       map[string]string            `json:"keys"`
	Signatures map[string]map[string]string `json:"signatures,omitempty"`
	Unsigned   json.RawMessage              `json:"unsigned,omitempty"`
}

// SignedKey is a signed_curve25519 one-time or fallback key (Matrix spec
// "Key algorithms": signed_curve25519).
type SignedKey struct {
	Key        string                       `json:"key"`
	Fallback   bool                         `json:"fallback,omitempty"`
	Signatures map[string]map[string]string `json:"signatures,omitempty"`
}

// KeysUpload is the body of POST /_matrix/client/v3/keys/upload.
type KeysUpload struct {
	DeviceKeys   *DeviceKeys          `json:"device_keys,omitempty"`
	OneTimeKeys  map[string]SignedKey `json:"one_time_keys,omitempty"`
	FallbackKeys map[string]SignedKey `json:"fallback_keys,omitempty"`
}

// UploadKeys publishes device keys and one-time/fallback keys (Matrix spec
// "POST /_matrix/client/v3/keys/upload"; MSC4108 "Secret sharing" step 3
// sends the device keys with the self-signing signature in this one
// request). It returns one_time_key_counts.
func (c *Client) UploadKeys(ctx context.Context, req *KeysUpload) (map[string]int, error) {
	var out struct {
		Counts map[string]int `json:"one_time_key_counts"`
	}
	if err := c.do(ctx, http.MethodPost, "/_matrix/client/v3/keys/upload", req, &out); err != nil {
		return nil, err
	}
	return out.Counts, nil
}

// CrossSigningKey is a cross-signing key object (Matrix spec
// "Cross-signing").
type CrossSigningKey struct {
	UserID     string                       `json:"user_id"`
	Usage      []string                     `json:"usage"`
	Keys       map[string]string            `json:"keys"`
	Signatures map[string]map[string]string `json:"signatures,omitempty"`
}

// KeysQueryResponse is the part of POST /keys/query's answer we use.
type KeysQueryResponse struct {
	DeviceKeys      map[string]map[string]DeviceKeys `json:"device_keys"`
	MasterKeys      map[string]CrossSigningKey       `json:"master_keys"`
	SelfSigningKeys map[string]CrossSigningKey       `json:"self_signing_keys"`
	UserSigningKeys map[string]CrossSigningKey       `json:"user_signing_keys"`
	Failures        map[string]json.RawMessage       `json:"failures"`
}

// ParseKeysQuery decodes a /keys/query answer.
func ParseKeysQuery(body []byte) (*KeysQueryResponse, error) {
	var q KeysQueryResponse
	if err := json.Unmarshal(body, &q); err != nil {
		return nil, fmt.Errorf("matrix: keys/query answer is not the expected JSON: %w", err)
	}
	return &q, nil
}

// QueryKeys fetches the device and cross-signing keys of users (Matrix spec
// "POST /_matrix/client/v3/keys/query").
func (c *Client) QueryKeys(ctx context.Context, userIDs ...string) (*KeysQueryResponse, error) {
	req := struct {
		DeviceKeys map[string][]string `json:"device_keys"`
	}{map[string][]string{}}
	for _, u := range userIDs {
		req.DeviceKeys[u] = []string{}
	}
	var raw json.RawMessage
	if err := c.do(ctx, http.MethodPost, "/_matrix/client/v3/keys/query", req, &raw); err != nil {
		return nil, err
	}
	return ParseKeysQuery(raw)
}

// BackupVersion is the answer of GET /_matrix/client/v3/room_keys/version.
type BackupVersion struct {
	Algorithm string `json:"algorithm"`
	AuthData  struct {
		PublicKey string `json:"public_key"`
	} `json:"auth_data"`
	Version string `json:"version"`
}

// ParseBackupVersion decodes a room_keys/version answer.
func ParseBackupVersion(body []byte) (*BackupVersion, error) {
	var v BackupVersion
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("matrix: room_keys/version answer is not the expected JSON: %w", err)
	}
	if v.Version == "" || v.Algorithm == "" {
		return nil, fmt.Errorf("matrix: room_keys/version answer lacks version or algorithm")
	}
	return &v, nil
}

// RoomKeysVersion fetches the current key backup (Matrix spec
// "GET /_matrix/client/v3/room_keys/version"). It returns (nil, nil) when
// the account has no backup (404 M_NOT_FOUND).
func (c *Client) RoomKeysVersion(ctx context.Context) (*BackupVersion, error) {
	var raw json.RawMessage
	err := c.do(ctx, http.MethodGet, "/_matrix/client/v3/room_keys/version", nil, &raw)
	if IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseBackupVersion(raw)
}
