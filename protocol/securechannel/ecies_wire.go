package securechannel

import (
	"errors"
	"fmt"
	"strings"
)

// Text encoding of the 2024 ECIES messages (docs/protocol-divergences.md
// "ECIES channel" and "Base64 padding"):
//
//	LoginInitiateMessage = b64(ciphertext‖tag) "|" b64(Sp)
//	every later message  = b64(ciphertext‖tag)
//
// b64 is the channel's one base64 (base64.go).

// eciesInitiateSeparator splits the ciphertext from S's public key.
const eciesInitiateSeparator = "|"

// Errors from the ECIES text codec. They are wrapped in ErrHandshake or
// ErrDecrypt by the callers, so match those with errors.Is.
var (
	errECIESNoSeparator = errors.New("the initiate message has no '|' between ciphertext and key")
	errECIESKeyLength   = errors.New("the public key is not 32 bytes")
	errECIESShort       = errors.New("the ciphertext is shorter than its authentication tag")
)

// eciesInitiate is a LoginInitiateMessage taken apart.
type eciesInitiate struct {
	ciphertext []byte // ChaCha20-Poly1305 output, tag included
	senderKey  []byte // Sp, 32 bytes
}

// encodeECIESInitiate builds S's first message.
func encodeECIESInitiate(m eciesInitiate) string {
	return encodeBase64(m.ciphertext) + eciesInitiateSeparator + encodeBase64(m.senderKey)
}

// parseECIESInitiate takes S's first message apart. It checks the shape
// (one separator, base64 on both sides, a 32-byte key, a ciphertext long
// enough to hold a tag) but not the cryptography. Errors wrap ErrHandshake.
func parseECIESInitiate(wire string) (eciesInitiate, error) {
	ctText, keyText, found := strings.Cut(wire, eciesInitiateSeparator)
	if !found {
		return eciesInitiate{}, fmt.Errorf("%w: %w", ErrHandshake, errECIESNoSeparator)
	}
	ct, err := decodeBase64(ctText)
	if err != nil {
		return eciesInitiate{}, fmt.Errorf("%w: ciphertext: %w", ErrHandshake, err)
	}
	if len(ct) < eciesTagSize {
		return eciesInitiate{}, fmt.Errorf("%w: %w", ErrHandshake, errECIESShort)
	}
	key, err := decodeBase64(keyText)
	if err != nil {
		// A second '|' lands here too: '|' is not in the base64 alphabet.
		return eciesInitiate{}, fmt.Errorf("%w: public key: %w", ErrHandshake, err)
	}
	if len(key) != eciesKeySize {
		return eciesInitiate{}, fmt.Errorf("%w: %w (got %d)", ErrHandshake, errECIESKeyLength, len(key))
	}
	return eciesInitiate{ciphertext: ct, senderKey: key}, nil
}
