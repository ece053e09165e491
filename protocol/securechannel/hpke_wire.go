package securechannel

import "errors"

// Wire formats of the MSC4388 channel as vodozemac writes them
// (docs/protocol-divergences.md "Handshake messages", "Payload encoding"
// and "Base64 padding"):
//
//	LoginInitiateMessage = b64(Sp(32) || ciphertext||tag)
//	LoginOkMessage       = b64(RN(32) || ciphertext||tag)
//	later messages       = b64(ciphertext||tag)
//
// b64 is the channel's one base64 (base64.go).

const (
	hpkeEncSize           = 32 // Nenc of DHKEM(X25519): Sp is the HPKE enc
	hpkeResponseNonceSize = 32 // RN; vodozemac ties it to the AEAD key size
	hpkeTagSize           = 16 // Nt of ChaCha20-Poly1305
)

// Errors from the MSC4388 codec. Callers wrap them in ErrHandshake (the
// first two messages) or ErrDecrypt (later ones).
var (
	errHPKEEmpty = errors.New("the message is empty")
	errHPKEShort = errors.New("the message is too short")
)

// hpkeHandshakeMessage is LoginInitiateMessage or LoginOkMessage taken
// apart: a 32-byte prefix (Sp or RN) and the sealed fixed plaintext.
type hpkeHandshakeMessage struct {
	prefix     []byte
	ciphertext []byte
}

func encodeHPKEHandshake(prefix, ciphertext []byte) string {
	raw := make([]byte, 0, len(prefix)+len(ciphertext))
	raw = append(raw, prefix...)
	raw = append(raw, ciphertext...)
	return encodeBase64(raw)
}

// decodeLoginInitiate splits LoginInitiateMessage into Sp and ciphertext.
func decodeLoginInitiate(wire string) (hpkeHandshakeMessage, error) {
	return decodeHPKEHandshake(wire, hpkeEncSize)
}

// decodeLoginOk splits LoginOkMessage into RN and ciphertext.
func decodeLoginOk(wire string) (hpkeHandshakeMessage, error) {
	return decodeHPKEHandshake(wire, hpkeResponseNonceSize)
}

func decodeHPKEHandshake(wire string, prefixSize int) (hpkeHandshakeMessage, error) {
	if wire == "" {
		return hpkeHandshakeMessage{}, errHPKEEmpty
	}
	raw, err := decodeBase64(wire)
	if err != nil {
		return hpkeHandshakeMessage{}, err
	}
	// vodozemac accepts an empty ciphertext here and fails at open; we
	// refuse anything that cannot even hold the tag, with the same outcome.
	if len(raw) < prefixSize+hpkeTagSize {
		return hpkeHandshakeMessage{}, errHPKEShort
	}
	return hpkeHandshakeMessage{prefix: raw[:prefixSize], ciphertext: raw[prefixSize:]}, nil
}

// decodeHPKEMessage reads a message after the handshake: b64(ciphertext||tag).
func decodeHPKEMessage(wire string) ([]byte, error) {
	if wire == "" {
		return nil, errHPKEEmpty
	}
	raw, err := decodeBase64(wire)
	if err != nil {
		return nil, err
	}
	if len(raw) < hpkeTagSize {
		return nil, errHPKEShort
	}
	return raw, nil
}
