package devserver

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"maunium.net/go/mautrix/crypto/signatures"
	"maunium.net/go/mautrix/id"

	"github.com/qrlogin/qrlogin/protocol/matrix"
)

// TestSigningSpecVectors: the spec appendix's signing test vectors (seed
// YJDBA9…, key ed25519:1) through the server's own signing path. The
// canonical JSON examples themselves are protocol/matrix's tests
// (canonical_test.go, signingbytes_test.go): the server has no canonical
// JSON of its own.
func TestSigningSpecVectors(t *testing.T) {
	seed, err := unpaddedBase64.DecodeString("YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1")
	if err != nil {
		t.Fatal(err)
	}
	key := ed25519.NewKeyFromSeed(seed)
	for in, want := range map[string]string{
		`{}`:                       "K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ",
		`{"one": 1, "two": "Two"}`: "KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw",
	} {
		got, err := signObject(json.RawMessage(in), key)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("sign(%s) = %s, want %s", in, got, want)
		}
	}
}

// queryKeys logs in and returns the /keys/query answer for the account.
func queryKeys(t *testing.T, s *Server, token string) keysQueryResponse {
	t.Helper()
	r := do(t, "POST", s.URL()+"/_matrix/client/v3/keys/query", token,
		map[string]any{"device_keys": map[string][]string{s.UserID(): {}}})
	expect(t, r, http.StatusOK, "")
	var q keysQueryResponse
	if err := json.Unmarshal(r.body, &q); err != nil {
		t.Fatal(err)
	}
	return q
}

// TestCrossSigningKeysVerify checks /keys/query's cross-signing keys with
// an independent verifier (mautrix's signatures package) and with plain
// ed25519, and that AccountSecrets' seeds are the published keys' seeds.
func TestCrossSigningKeysVerify(t *testing.T) {
	s := startServer(t, Config{})
	_, tok := login(t, s, testDeviceID)
	q := queryKeys(t, s, tok.AccessToken)
	user := s.UserID()
	master, ok := q.MasterKeys[user]
	if !ok || len(master.Keys) != 1 || master.Usage[0] != "master" {
		t.Fatalf("master key %+v", master)
	}
	var masterPub string
	for _, v := range master.Keys {
		masterPub = v
	}
	secrets, err := s.AccountSecrets()
	if err != nil {
		t.Fatal(err)
	}
	seedPub := func(seedB64 Secret) string {
		seed, err := unpaddedBase64.DecodeString(seedB64.Reveal())
		if err != nil || len(seed) != ed25519.SeedSize {
			t.Fatalf("seed not unpadded base64 of 32 bytes: %v", err)
		}
		return unpaddedBase64.EncodeToString(ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey))
	}
	if seedPub(secrets.MasterKey) != masterPub {
		t.Fatal("master seed does not match the published master key")
	}
	for name, k := range map[string]struct {
		key  crossSigningKey
		seed Secret
	}{
		"self_signing": {q.SelfSigningKeys[user], secrets.SelfSigningKey},
		"user_signing": {q.UserSigningKeys[user], secrets.UserSigningKey},
	} {
		if len(k.key.Usage) != 1 || k.key.Usage[0] != name || k.key.UserID != user {
			t.Fatalf("%s key %+v", name, k.key)
		}
		pub := seedPub(k.seed)
		if k.key.Keys["ed25519:"+pub] != pub {
			t.Fatalf("%s seed does not match the published key %v", name, k.key.Keys)
		}
		raw, _ := json.Marshal(k.key)
		ok, err := signatures.VerifySignatureJSON(json.RawMessage(raw), id.UserID(user), masterPub, id.Ed25519(masterPub))
		if err != nil || !ok {
			t.Fatalf("%s: mautrix says the master signature does not verify: %v", name, err)
		}
		if err := matrix.VerifyJSON(raw, user, "ed25519:"+masterPub, masterPub); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// A changed key must fail, or the check above proves nothing.
		k.key.Keys = map[string]string{"ed25519:" + masterPub: masterPub}
		tampered, _ := json.Marshal(k.key)
		if ok, _ := signatures.VerifySignatureJSON(json.RawMessage(tampered), id.UserID(user), masterPub, id.Ed25519(masterPub)); ok {
			t.Fatalf("%s: a tampered key still verifies", name)
		}
	}
	if fmt.Sprint(secrets) == "" || strings.Contains(fmt.Sprintf("%v %+v %s", secrets, secrets, secrets.MasterKey), secrets.MasterKey.Reveal()) {
		t.Fatal("AccountSecrets prints a key")
	}
}

func TestBackupVersion(t *testing.T) {
	s := startServer(t, Config{})
	_, tok := login(t, s, testDeviceID)
	r := do(t, "GET", s.URL()+"/_matrix/client/v3/room_keys/version", tok.AccessToken, nil)
	expect(t, r, http.StatusOK, "")
	var v backupVersionResponse
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatal(err)
	}
	secrets, _ := s.AccountSecrets()
	if v.Algorithm != BackupAlgorithm || v.Version != secrets.BackupVersion || secrets.BackupAlgorithm != BackupAlgorithm {
		t.Fatalf("backup %+v, secrets version %q", v, secrets.BackupVersion)
	}
	priv, err := unpaddedBase64.DecodeString(secrets.BackupKey.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdh.X25519().NewPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if unpaddedBase64.EncodeToString(key.PublicKey().Bytes()) != v.AuthData.PublicKey {
		t.Fatal("backup private key does not match auth_data.public_key")
	}
	pub, _ := s.PublicKeys()
	raw, _ := json.Marshal(v.AuthData)
	if err := matrix.VerifyJSON(raw, s.UserID(), "ed25519:"+pub.Master, pub.Master); err != nil {
		t.Fatalf("auth_data master signature: %v", err)
	}
	expect(t, do(t, "GET", s.URL()+"/_matrix/client/v3/room_keys/version/1", tok.AccessToken, nil), http.StatusOK, "")
	expect(t, do(t, "GET", s.URL()+"/_matrix/client/v3/room_keys/version/2", tok.AccessToken, nil), http.StatusNotFound, "M_NOT_FOUND")

	none := startServer(t, Config{NoBackup: true})
	_, tok2 := login(t, none, testDeviceID)
	expect(t, do(t, "GET", none.URL()+"/_matrix/client/v3/room_keys/version", tok2.AccessToken, nil), http.StatusNotFound, "M_NOT_FOUND")
	if sec, _ := none.AccountSecrets(); sec.HasBackup() {
		t.Fatal("secrets carry a backup the server does not have")
	}
}

// TestReplaceAndDeleteBackup: the hooks that make the account's backup
// differ from what a phone cached.
func TestReplaceAndDeleteBackup(t *testing.T) {
	s := startServer(t, Config{})
	_, tok := login(t, s, testDeviceID)
	old, _ := s.AccountSecrets()
	if err := s.ReplaceBackup(); err != nil {
		t.Fatal(err)
	}
	r := do(t, "GET", s.URL()+"/_matrix/client/v3/room_keys/version", tok.AccessToken, nil)
	expect(t, r, http.StatusOK, "")
	var v backupVersionResponse
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatal(err)
	}
	now, _ := s.AccountSecrets()
	if v.Version != "2" || now.BackupVersion != "2" || old.BackupVersion != "1" {
		t.Fatalf("versions: server %q, secrets %q, before %q", v.Version, now.BackupVersion, old.BackupVersion)
	}
	if now.BackupKey == old.BackupKey {
		t.Fatal("the new backup kept the old key")
	}
	pub, _ := s.PublicKeys()
	if pub.Backup != v.AuthData.PublicKey {
		t.Fatal("PublicKeys does not name the new backup")
	}
	raw, _ := json.Marshal(v.AuthData)
	if err := matrix.VerifyJSON(raw, s.UserID(), "ed25519:"+pub.Master, pub.Master); err != nil {
		t.Fatalf("the new auth_data is not signed by the master key: %v", err)
	}
	expect(t, do(t, "GET", s.URL()+"/_matrix/client/v3/room_keys/version/1", tok.AccessToken, nil), http.StatusNotFound, "M_NOT_FOUND")

	if err := s.DeleteBackup(); err != nil {
		t.Fatal(err)
	}
	expect(t, do(t, "GET", s.URL()+"/_matrix/client/v3/room_keys/version", tok.AccessToken, nil), http.StatusNotFound, "M_NOT_FOUND")
	if sec, _ := s.AccountSecrets(); sec.HasBackup() {
		t.Fatal("secrets carry a deleted backup")
	}
}

// newDeviceKeys builds device_keys the way the new device does (MSC4108
// "New device cross-signs itself and uploads device keys"): signed by the
// device key and, when selfSigning is given, by the self-signing key.
func newDeviceKeys(t *testing.T, userID, deviceID string, selfSigning ed25519.PrivateKey) (map[string]any, ed25519.PrivateKey) {
	t.Helper()
	_, devKey, _ := ed25519.GenerateKey(nil)
	curve, _ := ecdh.X25519().GenerateKey(rand.Reader)
	dk := map[string]any{
		"user_id":    userID,
		"device_id":  deviceID,
		"algorithms": []string{"m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"},
		"keys": map[string]string{
			"curve25519:" + deviceID: unpaddedBase64.EncodeToString(curve.PublicKey().Bytes()),
			"ed25519:" + deviceID:    publicKeyB64(devKey),
		},
	}
	sigs := signatureMap{}
	sig, err := signObject(dk, devKey)
	if err != nil {
		t.Fatal(err)
	}
	sigs.add(userID, "ed25519:"+deviceID, sig)
	if selfSigning != nil {
		sig, err := signObject(dk, selfSigning)
		if err != nil {
			t.Fatal(err)
		}
		sigs.add(userID, "ed25519:"+publicKeyB64(selfSigning), sig)
	}
	dk["signatures"] = sigs
	return dk, devKey
}

func TestKeysUploadAndQuery(t *testing.T) {
	s := startServer(t, Config{})
	_, tok := login(t, s, testDeviceID)
	secrets, _ := s.AccountSecrets()
	seed, _ := unpaddedBase64.DecodeString(secrets.SelfSigningKey.Reveal())
	dk, _ := newDeviceKeys(t, s.UserID(), testDeviceID, ed25519.NewKeyFromSeed(seed))

	upload := s.URL() + "/_matrix/client/v3/keys/upload"
	r := do(t, "POST", upload, tok.AccessToken, map[string]any{
		"device_keys":   dk,
		"one_time_keys": map[string]any{"signed_curve25519:AAAAAQ": map[string]any{"key": "x"}, "signed_curve25519:AAAAAg": map[string]any{"key": "y"}},
	})
	expect(t, r, http.StatusOK, "")
	if got := r.json(t)["one_time_key_counts"].(map[string]any)["signed_curve25519"]; got != float64(2) {
		t.Fatalf("one_time_key_counts %s", r.body)
	}
	info, ok := s.Device(testDeviceID)
	if !ok || !info.SelfSigned || !info.CrossSigned {
		t.Fatalf("device info %+v", info)
	}

	q := queryKeys(t, s, tok.AccessToken)
	published := q.DeviceKeys[s.UserID()][testDeviceID]
	if published == nil {
		t.Fatalf("device keys not published: %+v", q.DeviceKeys)
	}
	var back map[string]any
	_ = json.Unmarshal(published, &back)
	if back["keys"].(map[string]any)["ed25519:"+testDeviceID] != dk["keys"].(map[string]string)["ed25519:"+testDeviceID] {
		t.Fatal("published device keys differ from the uploaded ones")
	}

	// A device without the self-signing signature is stored but not
	// cross-signed; a forged device signature is noticed.
	_, tok2 := login(t, s, "SECONDDEV01")
	plain, _ := newDeviceKeys(t, s.UserID(), "SECONDDEV01", nil)
	plain["algorithms"] = []string{"m.olm.v1.curve25519-aes-sha2"} // changes the signed content
	expect(t, do(t, "POST", upload, tok2.AccessToken, map[string]any{"device_keys": plain}), http.StatusOK, "")
	if info, _ := s.Device("SECONDDEV01"); info.SelfSigned || info.CrossSigned {
		t.Fatalf("tampered device keys reported as signed: %+v", info)
	}

	// Shape errors.
	for name, body := range map[string]any{
		"other device": map[string]any{"device_keys": func() map[string]any { d, _ := newDeviceKeys(t, s.UserID(), "SOMEONEELSE", nil); return d }()},
		"no curve key": func() map[string]any {
			d, _ := newDeviceKeys(t, s.UserID(), testDeviceID, nil)
			delete(d["keys"].(map[string]string), "curve25519:"+testDeviceID)
			return map[string]any{"device_keys": d}
		}(),
		"unsigned": func() map[string]any {
			d, _ := newDeviceKeys(t, s.UserID(), testDeviceID, nil)
			delete(d, "signatures")
			return map[string]any{"device_keys": d}
		}(),
		"bad one-time key ID": map[string]any{"one_time_keys": map[string]any{"nocolon": "x"}},
	} {
		r := do(t, "POST", upload, tok.AccessToken, body)
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: status %d %s", name, r.status, r.body)
		}
	}
	expect(t, do(t, "POST", upload, tok.AccessToken, []byte("[1]")), http.StatusBadRequest, "M_BAD_JSON")
	expect(t, do(t, "POST", s.URL()+"/_matrix/client/v3/keys/query", tok.AccessToken, []byte("{}")), http.StatusBadRequest, "M_BAD_JSON")
}
