package matrix

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func FuzzParseSecrets(f *testing.F) {
	z := encodeBase64(make([]byte, 32))
	f.Add([]byte(`{"type":"m.login.secrets","cross_signing":{"master_key":"` + z + `","self_signing_key":"` + z + `","user_signing_key":"` + z + `"},"backup":{"algorithm":"m.megolm_backup.v1.curve25519-aes-sha2","key":"` + z + `","backup_version":"1"}}`))
	f.Add([]byte(`{"type":"m.login.secrets","cross_signing":{"master_key":"$base64_of_the_key"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSecrets(b)
		if err != nil {
			return
		}
		if s.MasterKey == nil || s.SelfSigningKey == nil || s.UserSigningKey == nil {
			t.Fatal("accepted without all three seeds")
		}
		q := &KeysQueryResponse{}
		_ = VerifyCrossSigning(s, "@a:b", q)
		_ = VerifyBackup(s.Backup, &BackupVersion{})
		s.Zero()
	})
}

func FuzzParseKeysQuery(f *testing.F) {
	f.Add([]byte(`{"device_keys":{"@alice:example.org":{"DEV":{"user_id":"@alice:example.org","device_id":"DEV","algorithms":[],"keys":{}}}},"master_keys":{"@alice:example.org":{"user_id":"@alice:example.org","usage":["master"],"keys":{"ed25519:K":"K"}}},"failures":{}}`))
	f.Add([]byte(`{"master_keys":{"@a:b":{"keys":{"ed25519:x":"y","ed25519:y":"y"}}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := ParseKeysQuery(b)
		if err != nil {
			return
		}
		for _, k := range q.MasterKeys {
			_, _ = k.PublicKey()
		}
		s := &Secrets{MasterKey: NewPrivateKey(), SelfSigningKey: NewPrivateKey(), UserSigningKey: NewPrivateKey()}
		if VerifyCrossSigning(s, "@alice:example.org", q) == nil {
			t.Fatal("random keys verified")
		}
	})
}

func FuzzParseBackupVersion(f *testing.F) {
	f.Add([]byte(`{"algorithm":"m.megolm_backup.v1.curve25519-aes-sha2","auth_data":{"public_key":"abc"},"version":"1"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, err := ParseBackupVersion(b); err == nil && v.Version == "" {
			t.Fatal("accepted without version")
		}
	})
}

// FuzzCanonicalize: canonical output is stable (canonicalizing it again is a
// no-op) and means the same JSON as the input.
func FuzzCanonicalize(f *testing.F) {
	f.Add([]byte(`{"b":[1,{"d":null,"c":"\u00e9\n"}],"a":-0}`))
	f.Add([]byte(`{"本": 2, "日": 1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := Canonicalize(b)
		if err != nil {
			return
		}
		again, err := Canonicalize(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %s -> %s (%v)", out, again, err)
		}
		var x, y any
		if json.Unmarshal(b, &x) != nil || json.Unmarshal(out, &y) != nil {
			t.Fatal("valid canonical output from invalid input, or invalid output")
		}
		if !reflect.DeepEqual(x, y) { // float64 compare: -0 equals 0
			t.Fatalf("meaning changed: %s vs %s", b, out)
		}
	})
}
