package matrix

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

type testAccount struct {
	userID           string
	master, ssk, usk *PrivateKey
	backup           *PrivateKey
	backupVersion    string
	secretsJSON      []byte
	query            *KeysQueryResponse
	currentBackup    *BackupVersion
}

func crossSigningKey(t *testing.T, userID, usage string, seed *PrivateKey) CrossSigningKey {
	pub, err := seed.Ed25519PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return CrossSigningKey{UserID: userID, Usage: []string{usage}, Keys: map[string]string{"ed25519:" + pub: pub}}
}

func newTestAccount(t *testing.T) *testAccount {
	a := &testAccount{userID: "@alice:example.org", master: NewPrivateKey(), ssk: NewPrivateKey(),
		usk: NewPrivateKey(), backup: NewPrivateKey(), backupVersion: "7"}
	a.secretsJSON = fmt.Appendf(nil, `{"type":"m.login.secrets","cross_signing":{"master_key":%q,"self_signing_key":%q,"user_signing_key":%q},"backup":{"algorithm":%q,"key":%q,"backup_version":"7"}}`,
		encodeBase64(a.master.Bytes()), encodeBase64(a.ssk.Bytes()), encodeBase64(a.usk.Bytes()), BackupAlgorithmCurve25519, encodeBase64(a.backup.Bytes()))
	a.query = &KeysQueryResponse{
		MasterKeys:      map[string]CrossSigningKey{a.userID: crossSigningKey(t, a.userID, "master", a.master)},
		SelfSigningKeys: map[string]CrossSigningKey{a.userID: crossSigningKey(t, a.userID, "self_signing", a.ssk)},
		UserSigningKeys: map[string]CrossSigningKey{a.userID: crossSigningKey(t, a.userID, "user_signing", a.usk)},
	}
	bpub, _ := a.backup.Curve25519PublicKey()
	a.currentBackup = &BackupVersion{Algorithm: BackupAlgorithmCurve25519, Version: "7"}
	a.currentBackup.AuthData.PublicKey = bpub
	return a
}

func TestSecretsParseVerifyZero(t *testing.T) {
	a := newTestAccount(t)
	s, err := ParseSecrets(a.secretsJSON)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyCrossSigning(s, a.userID, a.query); err != nil {
		t.Fatal(err)
	}
	if err := VerifyBackup(s.Backup, a.currentBackup); err != nil {
		t.Fatal(err)
	}
	s.Zero()
	if !s.MasterKey.IsZero() || !s.SelfSigningKey.IsZero() || !s.UserSigningKey.IsZero() || !s.Backup.Key.IsZero() {
		t.Fatal("Zero left key material")
	}
	if err := VerifyCrossSigning(s, a.userID, a.query); err == nil {
		t.Fatal("zeroed secrets verified")
	}
}

func TestSecretsMismatchNamesTheKey(t *testing.T) {
	a := newTestAccount(t)
	other := NewPrivateKey()
	for _, key := range []string{"master", "self_signing", "user_signing"} {
		s, _ := ParseSecrets(a.secretsJSON)
		q := *a.query
		replaced := map[string]CrossSigningKey{a.userID: crossSigningKey(t, a.userID, key, other)}
		switch key {
		case "master":
			q.MasterKeys = replaced
		case "self_signing":
			q.SelfSigningKeys = replaced
		case "user_signing":
			q.UserSigningKeys = replaced
		}
		var km *KeyMismatchError
		if err := VerifyCrossSigning(s, a.userID, &q); !errors.As(err, &km) || km.Key != key {
			t.Errorf("%s replaced: got %v", key, err)
		}
	}
	// Wrong usage, wrong user, missing keys.
	s, _ := ParseSecrets(a.secretsJSON)
	q := *a.query
	q.SelfSigningKeys = map[string]CrossSigningKey{a.userID: crossSigningKey(t, a.userID, "user_signing", a.ssk)}
	if err := VerifyCrossSigning(s, a.userID, &q); err == nil {
		t.Error("wrong usage accepted")
	}
	if err := VerifyCrossSigning(s, "@mallory:example.org", a.query); err == nil {
		t.Error("other user's keys accepted")
	}
	if err := VerifyCrossSigning(s, a.userID, &KeysQueryResponse{}); err == nil {
		t.Error("missing keys accepted")
	}

	var km *KeyMismatchError
	wrong := *a.currentBackup
	wrong.AuthData.PublicKey, _ = other.Curve25519PublicKey()
	if err := VerifyBackup(s.Backup, &wrong); !errors.As(err, &km) || km.Key != "backup" {
		t.Errorf("wrong backup key: %v", err)
	}
	newer := *a.currentBackup
	newer.Version = "8"
	if err := VerifyBackup(s.Backup, &newer); !errors.As(err, &km) || km.Key != "backup_version" {
		t.Errorf("old backup version: %v", err)
	}
	if err := VerifyBackup(s.Backup, nil); !errors.As(err, &km) || km.Key != "backup_version" {
		t.Errorf("no backup on server: %v", err)
	}
	if err := VerifyBackup(nil, nil); err != nil {
		t.Errorf("no backup shared: %v", err)
	}
}

func TestParseSecretsRejects(t *testing.T) {
	good := `"master_key":"` + encodeBase64(make([]byte, 32)) + `","self_signing_key":"` + encodeBase64(make([]byte, 32)) + `","user_signing_key":"` + encodeBase64(make([]byte, 32)) + `"`
	for _, tc := range []struct{ body, field string }{
		{`[]`, "message"},
		{`{"type":"m.login.success"}`, "type"},
		{`{"type":"m.login.secrets"}`, "cross_signing"},
		{`{"type":"m.login.secrets","cross_signing":{"master_key":"AAAA"}}`, "cross_signing.master_key"},
		{`{"type":"m.login.secrets","cross_signing":{` + strings.Replace(good, `"user_signing_key":"`, `"user_signing_key":"!`, 1) + `}}`, "cross_signing.user_signing_key"},
		{`{"type":"m.login.secrets","cross_signing":{` + good + `},"backup":{"key":"x","backup_version":"1"}}`, "backup.algorithm"},
		{`{"type":"m.login.secrets","cross_signing":{` + good + `},"backup":{"algorithm":"a","key":"` + encodeBase64(make([]byte, 32)) + `"}}`, "backup.backup_version"},
		{`{"type":"m.login.secrets","cross_signing":{` + good + `},"backup":{"algorithm":"a","key":"AA","backup_version":"1"}}`, "backup.key"},
	} {
		var se *SecretsError
		if _, err := ParseSecrets([]byte(tc.body)); !errors.As(err, &se) || se.Field != tc.field {
			t.Errorf("%s: got %v, want a SecretsError on %s", tc.body, err, tc.field)
		}
	}
	// Without backup is fine.
	s, err := ParseSecrets([]byte(`{"type":"m.login.secrets","cross_signing":{` + good + `}}`))
	if err != nil || s.Backup != nil {
		t.Fatal(s, err)
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	a := newTestAccount(t)
	s, _ := ParseSecrets(a.secretsJSON)
	j, _ := json.Marshal(s)
	out := fmt.Sprintf("%v %+v %#v %s %x %v %x %#v", s, s, s, s.MasterKey, s.MasterKey, *s.Backup, s.Backup.Key, s.Backup) + string(j)
	for _, k := range []*PrivateKey{a.master, a.ssk, a.usk, a.backup} {
		b64 := encodeBase64(k.Bytes())
		hex := fmt.Sprintf("%x", k.Bytes())
		if strings.Contains(out, b64) || strings.Contains(out, hex) || strings.Contains(out, b64[:12]) {
			t.Fatalf("key material printed: %s", out)
		}
	}
	if !strings.Contains(out, "[redacted]") {
		t.Fatal(out)
	}
}
