package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
)

// idEncoding is Crockford's base32 alphabet, the one ULIDs use, so IDs
// look like Synapse's (26 upper-case characters) while every one of their
// 128 bits is random: a ULID spends 48 bits on a timestamp, and an ID is
// all that protects a session from strangers (MSC4388 "Concept": anyone
// with the ID can read and write).
var idEncoding = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// idRandomBytes is the ID's entropy: 128 bits.
const idRandomBytes = 16

// newSessionID returns a fresh random session ID. It complies with the
// opaque identifier grammar, as MSC4388 requires of rendezvous IDs.
func newSessionID() string {
	var raw [idRandomBytes]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return idEncoding.EncodeToString(raw[:])
}

// tokenMinter makes MSC4388 sequence tokens the way the MSC's
// "sequence_token values" note recommends: a digest of the rendezvous ID,
// a counter of successful writes and the data written. The digest is an
// HMAC under a per-server random key so tokens cannot be predicted. The
// counter makes every successful write produce a new token even when the
// data repeats ("The send mechanism": the token MUST change for every
// successful write). The encoding, unpadded URL-safe base64 (43
// characters), matches Synapse's and complies with the opaque identifier
// grammar.
type tokenMinter struct {
	key [32]byte
}

func newTokenMinter() *tokenMinter {
	m := &tokenMinter{}
	_, _ = rand.Read(m.key[:])
	return m
}

func (m *tokenMinter) token(sessionID string, writes uint64, data string) string {
	mac := hmac.New(sha256.New, m.key[:])
	var prefix [8]byte
	binary.BigEndian.PutUint64(prefix[:], uint64(len(sessionID)))
	mac.Write(prefix[:])
	mac.Write([]byte(sessionID))
	binary.BigEndian.PutUint64(prefix[:], writes)
	mac.Write(prefix[:])
	mac.Write([]byte(data))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// etagOf is the 2024 API's entity tag for a payload, as Synapse makes
// it (docs/protocol-divergences.md "ETag handling"): quoted, strong and
// content-addressed, i.e. URL-safe unpadded base64 of SHA-256(body). The
// same body always gets the same tag.
func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:]) + `"`
}

// isOpaqueIdentifier reports whether s complies with the Matrix opaque
// identifier grammar (spec appendices, "Opaque Identifiers"): 1 to 255
// characters from [0-9A-Za-z-._~].
func isOpaqueIdentifier(s string) bool {
	if len(s) == 0 || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}
