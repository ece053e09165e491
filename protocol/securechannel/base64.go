package securechannel

import (
	"encoding/base64"
	"errors"
	"strings"
)

// The one base64 of the secure channel, for both generations: the
// handshake messages, every later message, and the public keys inside the
// 2024 LoginInitiateMessage and the key-derivation labels.
//
// Output is the standard alphabet ('+', '/') without padding: MSC4388
// "Secure channel" writes UnpaddedBase64 (steps 4 and 5), and the 2024
// MSC4108 stack as the phones speak it does the same
// (docs/protocol-divergences.md).
//
// Input is read the way vodozemac reads it (docs/protocol-divergences.md):
//
//   - the standard alphabet only; the URL-safe '-' and '_' are refused;
//   - padding is optional: none, the canonical '=' or '==' that completes
//     the last group of four, or any part of it ("QQ=" for "QQ==");
//     more '=' than that, or '=' anywhere but at the end, is refused;
//   - no line breaks or other characters outside the alphabet (Go's
//     decoders skip '\r' and '\n'; vodozemac's do not);
//   - the unused low bits of the last character must be zero, so each
//     byte string has exactly one unpadded spelling.
//
// The empty string decodes to no bytes; the message decoders refuse
// empty messages themselves.

// errBase64 is what decodeBase64 returns for anything outside that rule.
// Callers wrap it in ErrHandshake or ErrDecrypt.
var errBase64 = errors.New("not standard base64 (unpadded, or padded at most to a multiple of four)")

// encodeBase64 writes b as unpadded standard base64.
func encodeBase64(b []byte) string {
	return base64.RawStdEncoding.EncodeToString(b)
}

// decodeBase64 reads standard base64 with no, partial or canonical padding.
func decodeBase64(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errBase64
	}
	unpadded := strings.TrimRight(s, "=")
	// The canonical padding completes the last group of four characters.
	if pad := len(s) - len(unpadded); pad > (4-len(unpadded)%4)%4 {
		return nil, errBase64
	}
	b, err := base64.RawStdEncoding.Strict().DecodeString(unpadded)
	if err != nil {
		return nil, errBase64
	}
	return b, nil
}
