package qrcode

import (
	"errors"
	"fmt"
)

// Sentinel errors, one per kind of problem. Every error this package returns
// for bad input is a *FormatError that wraps one of them, so callers can use
// errors.Is(err, ErrTruncated) and errors.As for the field and offset.
var (
	// ErrBadPrefix: the payload starts with neither MATRIX nor
	// IO_ELEMENT_MSC4388 (or a Payload names an unknown prefix).
	ErrBadPrefix = errors.New("not a sign-in QR code (unknown prefix)")
	// ErrUnknownType: the type/version byte is neither 0x03 (MSC4388) nor
	// 0x02 (MSC4108 2024), or a Payload has no known Generation.
	ErrUnknownType = errors.New("unknown QR code type")
	// ErrUnknownIntent: MSC4388 intent other than 0x00/0x01, or 2024 mode
	// other than 0x03/0x04.
	ErrUnknownIntent = errors.New("unknown intent")
	// ErrTruncated: the payload ends inside a field.
	ErrTruncated = errors.New("truncated")
	// ErrTrailingBytes: bytes follow the last field.
	ErrTrailingBytes = errors.New("trailing bytes")
	// ErrIDTooLong: a rendezvous ID longer than 255 bytes.
	ErrIDTooLong = errors.New("rendezvous ID too long")
	// ErrBadID: an empty rendezvous ID or one outside the opaque identifier
	// grammar [0-9A-Za-z._~-] that MSC4388 "Concept" requires.
	ErrBadID = errors.New("rendezvous ID is not an opaque identifier")
	// ErrURLTooLong: a URL or server name longer than 65535 bytes.
	ErrURLTooLong = errors.New("URL too long")
	// ErrInvalidUTF8: a text field that is not UTF-8.
	ErrInvalidUTF8 = errors.New("invalid UTF-8")
	// ErrNotHTTPURL: a URL that is not an absolute http(s) URL with a host.
	ErrNotHTTPURL = errors.New("not an http(s) URL")
	// ErrBadServerName: an empty 2024 server name, or one with characters no
	// server name or URL can contain.
	ErrBadServerName = errors.New("bad server name")
	// ErrPayloadTooLarge: more bytes than a version-40 QR symbol holds at
	// level Q.
	ErrPayloadTooLarge = errors.New("payload too large for a QR code")
	// ErrBadScale: an image scale outside [1, MaxScale].
	ErrBadScale = errors.New("bad image scale")
)

// FormatError says what is wrong with a payload and where.
type FormatError struct {
	Err    error  // one of the Err* sentinels
	Field  string // e.g. "rendezvous ID length", "base URL"
	Offset int    // byte offset of the field in the payload; -1 when encoding
	Detail string // extra context, may be empty
}

func (e *FormatError) Error() string {
	msg := "qrcode: " + e.Err.Error()
	if e.Field != "" {
		msg += ": " + e.Field
	}
	if e.Offset >= 0 {
		msg += fmt.Sprintf(" at byte %d", e.Offset)
	}
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	return msg
}

// Unwrap makes errors.Is(err, ErrTruncated) and friends work.
func (e *FormatError) Unwrap() error { return e.Err }

func formatErr(sentinel error, field string, offset int, detail string, args ...any) *FormatError {
	if len(args) > 0 {
		detail = fmt.Sprintf(detail, args...)
	}
	return &FormatError{Err: sentinel, Field: field, Offset: offset, Detail: detail}
}

// encodeErr is a FormatError found while encoding (no offset).
func encodeErr(sentinel error, field string, detail string, args ...any) *FormatError {
	return formatErr(sentinel, field, -1, detail, args...)
}
