package devserver

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"

	"maunium.net/go/mautrix/crypto/canonicaljson"
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

// signingBytes is what Matrix signs for a JSON object (spec appendix
// "Signing JSON"): the object without "signatures" and "unsigned", as
// canonical JSON. Key order, whitespace and string escapes come from
// mautrix's canonicaljson; its Go 1.26 (pre-jsonv2) variant leaves numbers
// as written, so integers are normalised here first ("-0" → 0, "1e10" →
// 10000000000, as the spec's canonical JSON examples require).
func signingBytes(object []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(object))
	dec.UseNumber()
	var members map[string]any
	if err := dec.Decode(&members); err != nil || members == nil {
		return nil, fmt.Errorf("signed JSON must be an object: %v", err)
	}
	if dec.More() {
		return nil, errors.New("signed JSON has data after the object")
	}
	delete(members, "signatures")
	delete(members, "unsigned")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(normaliseNumbers(members)); err != nil {
		return nil, err
	}
	out := json.RawMessage(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	if err := canonicaljson.Canonicalize(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// maxSafeInteger is 2^53-1, the canonical JSON integer bound.
const maxSafeInteger = 1<<53 - 1

// normaliseNumbers rewrites every number that has an integer value within
// ±(2^53-1) in plain decimal form; other numbers (which canonical JSON does
// not allow) stay as written.
func normaliseNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normaliseNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normaliseNumbers(e)
		}
	case json.Number:
		f, _, err := big.ParseFloat(string(x), 10, 256, big.ToNearestEven)
		if err != nil || !f.IsInt() {
			return x
		}
		if i, acc := f.Int64(); acc == big.Exact && i >= -maxSafeInteger && i <= maxSafeInteger {
			return json.Number(strconv.FormatInt(i, 10))
		}
	}
	return v
}

// signObject signs v (marshalled as JSON) with key and returns the unpadded
// base64 signature.
func signObject(v any, key ed25519.PrivateKey) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	msg, err := signingBytes(raw)
	if err != nil {
		return "", err
	}
	return unpaddedBase64.EncodeToString(ed25519.Sign(key, msg)), nil
}

// errBadSignature says a signature did not verify.
var errBadSignature = errors.New("signature does not verify")

// verifyObjectSignature checks the signature of userID's keyID
// ("ed25519:...") on the raw JSON object with the unpadded base64 public
// key.
func verifyObjectSignature(object []byte, userID, keyID, publicKey string) error {
	var withSigs struct {
		Signatures signatureMap `json:"signatures"`
	}
	if err := json.Unmarshal(object, &withSigs); err != nil {
		return err
	}
	sigB64, ok := withSigs.Signatures[userID][keyID]
	if !ok {
		return fmt.Errorf("no signature by %s %s", userID, keyID)
	}
	sig, err := unpaddedBase64.DecodeString(sigB64)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("%w: signature by %s is not unpadded base64 of 64 bytes", errBadSignature, keyID)
	}
	pub, err := unpaddedBase64.DecodeString(publicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("public key %s is not unpadded base64 of 32 bytes", keyID)
	}
	msg, err := signingBytes(object)
	if err != nil {
		return err
	}
	if !ed25519.Verify(ed25519.PublicKey(pub), msg, sig) {
		return fmt.Errorf("%w: %s on the object", errBadSignature, keyID)
	}
	return nil
}
