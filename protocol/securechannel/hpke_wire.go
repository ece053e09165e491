package securechannel

import (
	"encoding/base64"
	"errors"
	"strings"
)

// Wire formats of the MSC4388 channel as vodozemac writes them
// (REFERENCE-IMPLEMENTATIONS.md 1.2, 1.4, 1.7):
//
//	LoginInitiateMessage = b64(Sp(32) || ciphertext||tag)
//	LoginOkMessage       = b64(RN(32) || ciphertext||tag)
//	later messages       = b64(ciphertext||tag)
//
// b64 is the standard alphabet without padding on output; input may be
// padded or not (vodozemac's DecodePaddingMode::Indifferent), but nothing
// looser: no URL-safe alphabet, no line breaks, no non-zero trailing bits.

const (
	hpkeEncSize           = 32 // Nenc of DHKEM(X25519): Sp is the HPKE enc
	hpkeResponseNonceSize = 32 // RN; vodozemac ties it to the AEAD key size
	hpkeTagSize           = 16 // Nt of ChaCha20-Poly1305
)

// Errors from the MSC4388 codec. Callers wrap them in ErrHandshake (the
// first two messages) or ErrDecrypt (later ones).
var (
	errHPKEBase64 = errors.New("not standard base64")
	errHPKEEmpty  = errors.New("the message is empty")
	errHPKEShort  = errors.New("the message is too short")
)

// hpkeEncode writes bytes the way vodozemac does: unpadded standard base64.
func hpkeEncode(b []byte) string {
	return base64.RawStdEncoding.EncodeToString(b)
}

// hpkeDecode reads standard base64 with canonical, partial or no padding.
func hpkeDecode(s string) ([]byte, error) {
	// Go's decoders skip '\r' and '\n'; vodozemac's do not.
	if strings.ContainsAny(s, "\r\n") {
		return nil, errHPKEBase64
	}
	unpadded := strings.TrimRight(s, "=")
	if pad := len(s) - len(unpadded); pad > 0 && pad > (4-len(unpadded)%4)%4 {
		return nil, errHPKEBase64
	}
	b, err := base64.RawStdEncoding.Strict().DecodeString(unpadded)
	if err != nil {
		return nil, errHPKEBase64
	}
	return b, nil
}

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
	return hpkeEncode(raw)
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
	raw, err := hpkeDecode(wire)
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
	raw, err := hpkeDecode(wire)
	if err != nil {
		return nil, err
	}
	if len(raw) < hpkeTagSize {
		return nil, errHPKEShort
	}
	return raw, nil
}
