package matrix

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

func TestKeysUploadSignatures(t *testing.T) {
	ssk := NewPrivateKey()
	sskPub, _ := ssk.Ed25519PublicKey()
	d, err := NewDeviceIdentity("@alice:example.org", "ABCDEFGHJK")
	if err != nil {
		t.Fatal(err)
	}
	edPub, curvePub := d.IdentityKeys()
	up, err := d.KeysUpload(ssk)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(up)
	var body struct {
		DeviceKeys   json.RawMessage            `json:"device_keys"`
		FallbackKeys map[string]json.RawMessage `json:"fallback_keys"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatal(err)
	}
	var dk DeviceKeys
	json.Unmarshal(body.DeviceKeys, &dk)
	if dk.UserID != "@alice:example.org" || dk.DeviceID != "ABCDEFGHJK" ||
		strings.Join(dk.Algorithms, ",") != "m.olm.v1.curve25519-aes-sha2,m.megolm.v1.aes-sha2" ||
		dk.Keys["ed25519:ABCDEFGHJK"] != edPub || dk.Keys["curve25519:ABCDEFGHJK"] != curvePub || len(dk.Keys) != 2 {
		t.Fatalf("device_keys shape: %s", body.DeviceKeys)
	}
	if err := VerifyJSON(body.DeviceKeys, dk.UserID, "ed25519:ABCDEFGHJK", edPub); err != nil {
		t.Fatalf("device signature: %v", err)
	}
	if err := VerifyJSON(body.DeviceKeys, dk.UserID, "ed25519:"+sskPub, sskPub); err != nil {
		t.Fatalf("self-signing signature: %v", err)
	}
	if len(body.FallbackKeys) != 1 {
		t.Fatalf("fallback keys: %s", raw)
	}
	for id, fk := range body.FallbackKeys {
		if !regexp.MustCompile(`^signed_curve25519:[A-Za-z0-9+/]+$`).MatchString(id) ||
			!strings.Contains(string(fk), `"fallback":true`) {
			t.Fatalf("fallback key %s: %s", id, fk)
		}
		if err := VerifyJSON(fk, dk.UserID, "ed25519:ABCDEFGHJK", edPub); err != nil {
			t.Fatalf("fallback key signature: %v", err)
		}
	}
	// Once published, the fallback key is not uploaded again.
	d.MarkPublished()
	up2, _ := d.KeysUpload(nil)
	if len(up2.FallbackKeys) != 0 || len(up2.DeviceKeys.Signatures[dk.UserID]) != 1 {
		t.Fatalf("second upload: %+v", up2)
	}
}

func TestDevicePickleRoundTrip(t *testing.T) {
	d, _ := NewDeviceIdentity("@alice:example.org", "ABCDEFGHJK")
	key := NewPrivateKey()
	p, err := d.Pickle(key)
	if err != nil {
		t.Fatal(err)
	}
	// Must fit one Windows credential (2560 bytes, docs/build-notes.md
	// "Keyring size limits").
	if len(p) > 2560 {
		t.Fatalf("pickle is %d bytes", len(p))
	}
	back, err := UnpickleDeviceIdentity(d.UserID, d.DeviceID, p, key)
	if err != nil {
		t.Fatal(err)
	}
	e1, c1 := d.IdentityKeys()
	e2, c2 := back.IdentityKeys()
	if e1 != e2 || c1 != c2 {
		t.Fatal("identity keys changed across pickling")
	}
	if _, err := UnpickleDeviceIdentity(d.UserID, d.DeviceID, p, NewPrivateKey()); err == nil {
		t.Fatal("wrong pickle key accepted")
	}
	if _, err := UnpickleDeviceIdentity(d.UserID, d.DeviceID, []byte("garbage!"), key); err == nil {
		t.Fatal("garbage accepted")
	}
	if s := fmt.Sprintf("%v %+v %#v", d, d, d); strings.Contains(s, "private") || !strings.Contains(s, "[redacted]") {
		t.Fatal(s)
	}
	d.Zero()
	if _, err := d.KeysUpload(nil); !errors.Is(err, errZeroedIdentity) {
		t.Fatal(err)
	}
	key.Zero()
	if _, err := back.Pickle(key); !errors.Is(err, errZeroKey) {
		t.Fatal(err)
	}
}
