package matrix

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
)

// SigningBytes returns what a Matrix signature covers (spec appendix
// "Signing JSON"): the canonical JSON of v with its top-level "signatures"
// and "unsigned" members removed. v must encode as a JSON object.
func SigningBytes(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	// Canonicalise the whole input first: it rejects duplicate keys and
	// invalid UTF-8 at every level, which the map below would silently
	// merge or replace (two parsers must never read one signed object two
	// ways).
	if _, err := Canonicalize(raw); err != nil {
		return nil, err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("%w: signed JSON must be an object", ErrNotCanonicalizable)
	}
	delete(obj, "signatures")
	delete(obj, "unsigned")
	raw, err = json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	return Canonicalize(raw)
}

// SignJSON signs v with the ed25519 seed and returns the unpadded base64
// signature (spec appendix "Signing JSON").
func SignJSON(v any, seed *PrivateKey) (string, error) {
	msg, err := SigningBytes(v)
	if err != nil {
		return "", err
	}
	return seed.signEd25519(msg)
}

// ErrBadSignature: a signature is missing or does not verify.
var ErrBadSignature = errors.New("matrix: signature does not verify")

// VerifyJSON checks signatures[userID][keyID] of the JSON object raw against
// the unpadded base64 ed25519 public key (spec appendix "Checking for a
// signature").
func VerifyJSON(raw []byte, userID, keyID, publicKey string) error {
	var obj struct {
		Signatures map[string]map[string]string `json:"signatures"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	sig, err := decodeBase64(obj.Signatures[userID][keyID])
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("%w: no signature by %s", ErrBadSignature, keyID)
	}
	pub, err := decodeBase64(publicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: bad public key", ErrBadSignature)
	}
	msg, err := SigningBytes(json.RawMessage(raw))
	if err != nil {
		return err
	}
	if !ed25519.Verify(pub, msg, sig) {
		return ErrBadSignature
	}
	return nil
}
