package qrcode

import (
	"encoding/binary"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the length fields (MSC4388 "QR code format").
const (
	maxIDLen  = 255   // one length byte; also the opaque identifier limit
	maxURLLen = 65535 // two length bytes
)

// reader walks a payload and reports truncation with the field's name.
type reader struct {
	buf []byte
	off int
}

func (r *reader) remaining() int { return len(r.buf) - r.off }

func (r *reader) bytes(n int, field string) ([]byte, error) {
	if n > r.remaining() {
		return nil, formatErr(ErrTruncated, field, r.off, "needs %d bytes, %d left", n, r.remaining())
	}
	b := r.buf[r.off : r.off+n]
	r.off += n
	return b, nil
}

func (r *reader) byte1(field string) (byte, error) {
	b, err := r.bytes(1, field)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (r *reader) uint16(field string) (int, error) {
	b, err := r.bytes(2, field)
	if err != nil {
		return 0, err
	}
	return int(binary.BigEndian.Uint16(b)), nil
}

// text reads a UTF-8 field of n bytes; it returns the string and the offset
// it started at, for validation errors.
func (r *reader) text(n int, field string) (string, int, error) {
	start := r.off
	b, err := r.bytes(n, field)
	if err != nil {
		return "", start, err
	}
	if !utf8.Valid(b) {
		return "", start, formatErr(ErrInvalidUTF8, field, start, "")
	}
	return string(b), start, nil
}

func (r *reader) end() error {
	if r.remaining() != 0 {
		return formatErr(ErrTrailingBytes, "end of payload", r.off, "%d extra bytes", r.remaining())
	}
	return nil
}

// checkRendezvousID enforces MSC4388 "Concept": the rendezvous ID is an
// opaque identifier, 1-255 characters of [0-9A-Za-z._~-]. It goes into a URL
// path, so a stray "/" or "?" must never get through.
func checkRendezvousID(id string, offset int) error {
	if len(id) > maxIDLen {
		return formatErr(ErrIDTooLong, "rendezvous ID", offset, "%d bytes, at most %d", len(id), maxIDLen)
	}
	if !utf8.ValidString(id) {
		return formatErr(ErrInvalidUTF8, "rendezvous ID", offset, "")
	}
	if id == "" {
		return formatErr(ErrBadID, "rendezvous ID", offset, "empty")
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		opaque := c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' ||
			c == '-' || c == '.' || c == '_' || c == '~'
		if !opaque {
			return formatErr(ErrBadID, "rendezvous ID", offset, "character %q", rune(c))
		}
	}
	return nil
}

// checkHTTPURL accepts an absolute http or https URL with a host.
func checkHTTPURL(s, field string, offset int) error {
	if len(s) > maxURLLen {
		return formatErr(ErrURLTooLong, field, offset, "%d bytes, at most %d", len(s), maxURLLen)
	}
	if !utf8.ValidString(s) {
		return formatErr(ErrInvalidUTF8, field, offset, "")
	}
	u, err := url.Parse(s)
	if err != nil {
		return formatErr(ErrNotHTTPURL, field, offset, "%q does not parse", s)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return formatErr(ErrNotHTTPURL, field, offset, "%q has scheme %q", s, u.Scheme)
	}
	if u.Host == "" {
		return formatErr(ErrNotHTTPURL, field, offset, "%q has no host", s)
	}
	return nil
}

// checkServerName accepts what 2024 generators put after mode 0x04: a full
// http(s) URL (rust-sdk) or a bare server name such as "matrix.org" or
// "[::1]:8448" (js-sdk). A bare name must be non-empty and free of spaces,
// control characters and URL delimiters.
func checkServerName(s string, offset int) error {
	const field = "server name"
	if len(s) > maxURLLen {
		return formatErr(ErrURLTooLong, field, offset, "%d bytes, at most %d", len(s), maxURLLen)
	}
	if !utf8.ValidString(s) {
		return formatErr(ErrInvalidUTF8, field, offset, "")
	}
	if strings.Contains(s, "://") {
		return checkHTTPURL(s, field, offset)
	}
	if s == "" {
		return formatErr(ErrBadServerName, field, offset, "empty")
	}
	for _, c := range s {
		if unicode.IsSpace(c) || unicode.IsControl(c) || strings.ContainsRune("/?#@", c) {
			return formatErr(ErrBadServerName, field, offset, "character %q in %q", c, s)
		}
	}
	return nil
}

// trimLoneSlash drops the "/" of a base URL whose path is just "/", as the
// reference encoder does (docs/protocol-divergences.md "Base URL in the QR"):
// "https://example.org/" becomes "https://example.org"; a real path such as
// "https://example.org/matrix/" is kept.
func trimLoneSlash(baseURL string) string {
	u, err := url.Parse(baseURL)
	if err != nil || u.Path != "/" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" ||
		!strings.HasSuffix(baseURL, "/") {
		return baseURL
	}
	return strings.TrimSuffix(baseURL, "/")
}

func appendUint16(b []byte, n int) []byte {
	return binary.BigEndian.AppendUint16(b, uint16(n))
}
