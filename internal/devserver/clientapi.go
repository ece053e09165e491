package devserver

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
)

// device is a Matrix device of the test account.
type device struct {
	id          string
	createdAt   time.Time
	keys        json.RawMessage // device_keys as uploaded; nil until /keys/upload
	selfSigned  bool
	crossSigned bool
	oneTimeKeys map[string]int
}

// DeviceInfo is what tests can learn about a device.
type DeviceInfo struct {
	DeviceID string
	// Keys is device_keys as uploaded (nil before /keys/upload).
	Keys json.RawMessage
	// SelfSigned: the device's own ed25519 signature verifies.
	SelfSigned bool
	// CrossSigned: the account's self-signing key's signature verifies, as
	// MSC4108 "New device cross-signs itself and uploads device keys" asks.
	CrossSigned bool
	// OneTimeKeys counts uploaded one-time keys by algorithm.
	OneTimeKeys map[string]int
}

// Device reports on a device of the test account.
func (s *Server) Device(deviceID string) (DeviceInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devices[deviceID]
	if d == nil {
		return DeviceInfo{}, false
	}
	counts := map[string]int{}
	for k, v := range d.oneTimeKeys {
		counts[k] = v
	}
	return DeviceInfo{DeviceID: d.id, Keys: append(json.RawMessage(nil), d.keys...),
		SelfSigned: d.selfSigned, CrossSigned: d.crossSigned, OneTimeKeys: counts}, true
}

// handleWhoami: GET /_matrix/client/v3/account/whoami; a queued
// WhoamiFault names another device (or none).
func (s *Server) handleWhoami(w http.ResponseWriter, _ *http.Request, sess *oauthSession) {
	deviceID := sess.deviceID
	s.mu.Lock()
	if f := s.takeWhoamiFault(); f != nil {
		deviceID = f.DeviceID
	}
	s.mu.Unlock()
	resp := map[string]any{"user_id": sess.userID, "is_guest": false}
	if deviceID != "" {
		resp["device_id"] = deviceID
	}
	writeJSON(w, http.StatusOK, resp)
}

// deviceJSON is the C-S spec's Device object.
type deviceJSON struct {
	DeviceID    string `json:"device_id"`
	DisplayName string `json:"display_name,omitempty"`
	LastSeenIP  string `json:"last_seen_ip,omitempty"`
	LastSeenTS  int64  `json:"last_seen_ts,omitempty"`
}

func (d *device) json() deviceJSON {
	return deviceJSON{DeviceID: d.id, LastSeenIP: "127.0.0.1", LastSeenTS: d.createdAt.UnixMilli()}
}

// handleDevices: GET /_matrix/client/v3/devices.
func (s *Server) handleDevices(w http.ResponseWriter, _ *http.Request, _ *oauthSession) {
	s.mu.Lock()
	list := make([]deviceJSON, 0, len(s.devices))
	for _, d := range s.devices {
		list = append(list, d.json())
	}
	s.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].DeviceID < list[j].DeviceID })
	writeJSON(w, http.StatusOK, map[string]any{"devices": list})
}

// handleDevice: GET /_matrix/client/v3/devices/{deviceID}; 404 until the
// token exchange created it (the existing device polls this, MSC4108
// "Existing device confirms that the new device has indeed logged in").
// ServeMux matches on the escaped path, so a device ID with "/" arrives
// whole when the client percent-encodes it.
func (s *Server) handleDevice(w http.ResponseWriter, r *http.Request, _ *oauthSession) {
	s.mu.Lock()
	d := s.devices[r.PathValue("deviceID")]
	var body deviceJSON
	if d != nil {
		body = d.json()
	}
	s.mu.Unlock()
	if d == nil {
		writeMatrixError(w, http.StatusNotFound, "M_NOT_FOUND", "Device not found")
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// maxKeysBody bounds /keys/upload and /keys/query bodies.
const maxKeysBody = 1 << 20

func readJSONBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxKeysBody))
	if err != nil {
		writeMatrixError(w, http.StatusRequestEntityTooLarge, "M_TOO_LARGE", "request body too large or unreadable")
		return nil, false
	}
	return body, true
}

// handleKeysUpload: POST /_matrix/client/v3/keys/upload. The device keys
// are kept as uploaded and published by /keys/query.
func (s *Server) handleKeysUpload(w http.ResponseWriter, r *http.Request, sess *oauthSession) {
	body, ok := readJSONBody(w, r)
	if !ok {
		return
	}
	if sess.deviceID == "" {
		writeMatrixError(w, http.StatusBadRequest, "M_INVALID_PARAM", "the access token has no device")
		return
	}
	up, err := parseKeysUpload(body, sess.userID, sess.deviceID)
	if err != nil {
		var ke *KeysError
		if !errors.As(err, &ke) {
			ke = &KeysError{ErrCode: "M_BAD_JSON", Reason: err.Error()}
		}
		writeMatrixError(w, http.StatusBadRequest, ke.ErrCode, ke.Reason)
		return
	}
	s.mu.Lock()
	d := s.devices[sess.deviceID]
	if d == nil { // revoked between authentication and now
		s.mu.Unlock()
		writeMatrixError(w, http.StatusUnauthorized, "M_UNKNOWN_TOKEN", "the device was deleted")
		return
	}
	if up.deviceKeys != nil {
		d.keys = up.deviceKeys
		d.selfSigned, d.crossSigned = verifyDeviceKeys(up.deviceKeys, sess.userID, sess.deviceID,
			up.ed25519, s.acct.selfSigningPublicKey())
	}
	if d.oneTimeKeys == nil {
		d.oneTimeKeys = map[string]int{}
	}
	for algorithm, n := range up.oneTimeKeyCounts {
		d.oneTimeKeys[algorithm] += n
	}
	counts := map[string]int{"signed_curve25519": 0}
	for algorithm, n := range d.oneTimeKeys {
		counts[algorithm] = n
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"one_time_key_counts": counts})
}

// keysQueryRequest is the body of POST /keys/query.
type keysQueryRequest struct {
	DeviceKeys map[string][]string `json:"device_keys"`
}

// keysQueryResponse carries the test account's device keys and its
// cross-signing keys (user_signing_keys only go to the user themself, and
// every user here is the test account).
type keysQueryResponse struct {
	DeviceKeys      map[string]map[string]json.RawMessage `json:"device_keys"`
	MasterKeys      map[string]crossSigningKey            `json:"master_keys"`
	SelfSigningKeys map[string]crossSigningKey            `json:"self_signing_keys"`
	UserSigningKeys map[string]crossSigningKey            `json:"user_signing_keys"`
	Failures        map[string]any                        `json:"failures"`
}

// handleKeysQuery: POST /_matrix/client/v3/keys/query.
func (s *Server) handleKeysQuery(w http.ResponseWriter, r *http.Request, sess *oauthSession) {
	body, ok := readJSONBody(w, r)
	if !ok {
		return
	}
	var req keysQueryRequest
	if err := json.Unmarshal(body, &req); err != nil || req.DeviceKeys == nil {
		writeMatrixError(w, http.StatusBadRequest, "M_BAD_JSON", "body must be {\"device_keys\": {user: [device IDs]}}")
		return
	}
	resp := keysQueryResponse{
		DeviceKeys:      map[string]map[string]json.RawMessage{},
		MasterKeys:      map[string]crossSigningKey{},
		SelfSigningKeys: map[string]crossSigningKey{},
		UserSigningKeys: map[string]crossSigningKey{},
		Failures:        map[string]any{},
	}
	s.mu.Lock()
	for userID, wanted := range req.DeviceKeys {
		if userID != s.acct.userID {
			if strings.HasSuffix(userID, ":"+s.serverName) {
				resp.DeviceKeys[userID] = map[string]json.RawMessage{} // local user without devices
			}
			continue
		}
		devices := map[string]json.RawMessage{}
		for id, d := range s.devices {
			if d.keys != nil && (len(wanted) == 0 || slices.Contains(wanted, id)) {
				devices[id] = d.keys
			}
		}
		resp.DeviceKeys[userID] = devices
		resp.MasterKeys[userID] = s.acct.masterKey
		resp.SelfSigningKeys[userID] = s.acct.selfKey
		if userID == sess.userID {
			resp.UserSigningKeys[userID] = s.acct.userKey
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, resp)
}

// backupVersionResponse is GET /room_keys/version's answer.
type backupVersionResponse struct {
	Algorithm string         `json:"algorithm"`
	AuthData  backupAuthData `json:"auth_data"`
	Count     int            `json:"count"`
	ETag      string         `json:"etag"`
	Version   string         `json:"version"`
}

// handleBackupVersion: GET /_matrix/client/v3/room_keys/version[/{version}];
// 404 M_NOT_FOUND without a backup, as Synapse answers.
func (s *Server) handleBackupVersion(w http.ResponseWriter, r *http.Request, _ *oauthSession) {
	s.mu.Lock()
	hasBackup := s.acct.backup != nil
	auth, version := s.acct.backupAuth, s.acct.currentBackupVersion()
	s.mu.Unlock()
	if v := r.PathValue("version"); !hasBackup || (v != "" && v != version) {
		writeMatrixError(w, http.StatusNotFound, "M_NOT_FOUND", "No current backup version")
		return
	}
	writeJSON(w, http.StatusOK, backupVersionResponse{
		Algorithm: BackupAlgorithm, AuthData: auth, Count: 0, ETag: "0", Version: version,
	})
}
