package login

// PLACEHOLDER until protocol/matrix lands: whoami and the end-to-end
// encryption set-up after the tokens arrive.

import (
	"context"
	"errors"
)

// VerifiedSecrets are the phone's secrets that matched the server's keys.
type VerifiedSecrets struct{}

// Export returns the secrets as stored: unpadded base64 seeds and keys.
func (s *VerifiedSecrets) Export() (master, selfSigning, userSigning, backupKey, backupVersion string) {
	return "", "", "", "", ""
}

// OlmIdentity is the device's pickled Olm account.
type OlmIdentity struct{}

// Export returns the pickled Olm account and its pickle key.
func (o *OlmIdentity) Export() (pickle, key string) { return "", "" }

func (f *Flow) whoami(ctx context.Context, base, accessToken string) (string, error) {
	return "", errors.New("login: whoami not implemented yet")
}

func (f *Flow) finishEncryption(ctx context.Context, res *Result, secretsRaw []byte) error {
	return errors.New("login: encryption set-up not implemented yet")
}
