package phone

import (
	"crypto/rand"
	"encoding/base64"

	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/protocol/msc4108"
)

// secretsMessage builds m.login.secrets from the account's private keys,
// or, with Script.WrongSecrets, from fresh random keys that match nothing
// the server publishes.
func (p *run) secretsMessage() (*msc4108.Secrets, error) {
	acct, err := p.cfg.Homeserver.AccountSecrets()
	if err != nil {
		return nil, err
	}
	m := &msc4108.Secrets{Type: msc4108.TypeSecrets}
	reveal := func(s devserver.Secret) string { return s.Reveal() }
	if p.cfg.Script.WrongSecrets {
		reveal = func(devserver.Secret) string { return randomKey() }
	}
	m.CrossSigning.MasterKey = reveal(acct.MasterKey)
	m.CrossSigning.SelfSigningKey = reveal(acct.SelfSigningKey)
	m.CrossSigning.UserSigningKey = reveal(acct.UserSigningKey)
	if acct.HasBackup() {
		m.Backup = &msc4108.BackupSecret{Algorithm: acct.BackupAlgorithm, Key: reveal(acct.BackupKey), BackupVersion: acct.BackupVersion}
	}
	return m, nil
}

// randomKey is 32 random bytes as unpadded standard base64, the shape of
// every key in m.login.secrets.
func randomKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawStdEncoding.EncodeToString(b)
}
