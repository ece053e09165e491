package devserver

import (
	"crypto/ed25519"
	"encoding/base64"

	"github.com/qrlogin/qrlogin/protocol/matrix"
)

// unpaddedBase64 is Matrix's "unpadded base64" (spec appendix: standard
// alphabet, no '=').
var unpaddedBase64 = base64.RawStdEncoding

// signatureMap is the "signatures" member of a signed JSON object:
// user ID → "ed25519:<key id>" → unpadded base64 signature.
type signatureMap map[string]map[string]string

func (m signatureMap) add(userID, keyID, signature string) signatureMap {
	if m == nil {
		m = signatureMap{}
	}
	if m[userID] == nil {
		m[userID] = map[string]string{}
	}
	m[userID][keyID] = signature
	return m
}

// signObject signs v (marshalled as JSON) with key and returns the unpadded
// base64 signature (spec appendix "Signing JSON"). The bytes signed are
// protocol/matrix's SigningBytes, the project's one canonical JSON; the
// dev server keeps its keys as ed25519.PrivateKey rather than as
// matrix.PrivateKey seeds, so it signs those bytes itself instead of
// calling matrix.SignJSON.
func signObject(v any, key ed25519.PrivateKey) (string, error) {
	msg, err := matrix.SigningBytes(v)
	if err != nil {
		return "", err
	}
	return unpaddedBase64.EncodeToString(ed25519.Sign(key, msg)), nil
}
