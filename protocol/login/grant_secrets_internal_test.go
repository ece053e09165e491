package login

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/qrlogin/qrlogin/protocol/matrix"
	"github.com/qrlogin/qrlogin/protocol/msc4108"
)

// TestSecretsJSONIsTheWireType: m.login.secrets, written by hand into one
// buffer so that the keys exist in no Go string, is byte for byte what
// encoding/json makes of the msc4108 wire type, and fills its buffer
// exactly (a buffer that grew would have left a copy of the keys behind).
func TestSecretsJSONIsTheWireType(t *testing.T) {
	key := func(first byte) []byte {
		k := make([]byte, secretKeySize)
		for i := range k {
			k[i] = first + byte(7*i)
		}
		return k
	}
	crossSigning := func() GrantSecrets {
		return GrantSecrets{MasterKey: key(1), SelfSigningKey: key(0xf0), UserSigningKey: key(0x3e)}
	}
	withBackup := func(version string) GrantSecrets {
		s := crossSigning()
		s.BackupKey, s.BackupVersion = key(0xfb), version
		return s
	}
	for name, s := range map[string]GrantSecrets{
		"cross-signing only":       crossSigning(),
		"with backup":              withBackup("7"),
		"backup version to escape": withBackup("v\"1\\ <tag> & \u2028 é \x01"),
	} {
		t.Run(name, func(t *testing.T) {
			b64 := base64.RawStdEncoding.EncodeToString
			wire := msc4108.Secrets{Type: msc4108.TypeSecrets, CrossSigning: msc4108.CrossSigningSecret{
				MasterKey: b64(s.MasterKey), SelfSigningKey: b64(s.SelfSigningKey), UserSigningKey: b64(s.UserSigningKey),
			}}
			if s.BackupKey != nil {
				wire.Backup = &msc4108.BackupSecret{Algorithm: matrix.BackupAlgorithmCurve25519, Key: b64(s.BackupKey), BackupVersion: s.BackupVersion}
			}
			want, err := json.Marshal(wire)
			if err != nil {
				t.Fatal(err)
			}
			got := s.messageJSON()
			if !bytes.Equal(got, want) {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
			if cap(got) != len(got) {
				t.Fatalf("buffer of %d bytes for a message of %d", cap(got), len(got))
			}
		})
	}
}
