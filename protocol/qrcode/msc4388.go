package qrcode

import (
	"errors"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// typeMSC4388 is the QR code type byte of MSC4388 "QR code format".
const typeMSC4388 = 0x03

// encodeMSC4388 writes prefix ‖ 0x03 ‖ intent ‖ key ‖ len ‖ ID ‖ u16 len ‖
// base URL (MSC4388 "QR code format").
func (p Payload) encodeMSC4388() ([]byte, error) {
	prefix := p.prefixOrDefault()
	if prefix != PrefixUnstable && prefix != PrefixStable {
		return nil, encodeErr(ErrBadPrefix, "prefix", "%q", prefix)
	}
	if !p.Intent.valid() {
		return nil, encodeErr(ErrUnknownIntent, "intent", "0x%02x", byte(p.Intent))
	}
	width := p.IDLengthWidth
	if width == 0 {
		width = 1
	}
	if width != 1 && width != 2 {
		return nil, encodeErr(ErrUnknownType, "rendezvous ID length width", "%d bytes, want 1 or 2", width)
	}
	if err := checkRendezvousID(p.RendezvousID, -1); err != nil {
		return nil, err
	}
	baseURL := trimLoneSlash(p.BaseURL)
	if err := checkHTTPURL(baseURL, "base URL", -1); err != nil {
		return nil, err
	}

	b := make([]byte, 0, len(prefix)+2+KeySize+width+len(p.RendezvousID)+2+len(baseURL))
	b = append(b, prefix...)
	b = append(b, typeMSC4388, byte(p.Intent))
	b = append(b, p.PublicKey[:]...)
	if width == 2 {
		b = appendUint16(b, len(p.RendezvousID))
	} else {
		b = append(b, byte(len(p.RendezvousID)))
	}
	b = append(b, p.RendezvousID...)
	b = appendUint16(b, len(baseURL))
	b = append(b, baseURL...)
	return b, nil
}

// decodeMSC4388 parses what follows prefix ‖ 0x03. The rendezvous-ID length
// is one byte in the MSC text but two in rust-sdk main and wasm 18.9
// (docs/protocol-divergences.md "QR rendezvous-ID length"). Both forms are
// tried; they cannot both succeed, because a valid ID is 1-255 bytes: a
// 2-byte length starts with 0x00, which as a 1-byte length means an empty
// (invalid) ID, and a non-zero first length byte read as the high half of a
// 2-byte length means an ID longer than 255 bytes.
func decodeMSC4388(b []byte, prefix Prefix) (Payload, error) {
	p, err := decodeMSC4388Width(b, prefix, 1)
	if err == nil {
		return p, nil
	}
	p2, err2 := decodeMSC4388Width(b, prefix, 2)
	if err2 == nil || errors.Is(err2, ErrIDTooLong) {
		// A well-formed 2-byte payload, perhaps with an over-long ID.
		return p2, err2
	}
	// Neither parses: report the form the payload most likely uses.
	if idLen := len(prefix) + 2 + KeySize; idLen < len(b) && b[idLen] == 0 {
		return Payload{}, err2
	}
	return Payload{}, err
}

func decodeMSC4388Width(b []byte, prefix Prefix, width int) (Payload, error) {
	r := reader{buf: b, off: len(prefix) + 1} // the type byte is checked by Decode
	p := Payload{Generation: vocab.MSC4388, Prefix: prefix, IDLengthWidth: width}

	intentOffset := r.off
	intent, err := r.byte1("intent")
	if err != nil {
		return Payload{}, err
	}
	p.Intent = Intent(intent)
	if !p.Intent.valid() {
		return Payload{}, formatErr(ErrUnknownIntent, "intent", intentOffset, "0x%02x, want 0x00 (new device) or 0x01 (existing device)", intent)
	}
	key, err := r.bytes(KeySize, "public key")
	if err != nil {
		return Payload{}, err
	}
	copy(p.PublicKey[:], key)

	lengthOffset := r.off
	var idLen int
	if width == 2 {
		idLen, err = r.uint16("rendezvous ID length (2 bytes)")
	} else {
		var n byte
		n, err = r.byte1("rendezvous ID length")
		idLen = int(n)
	}
	if err != nil {
		return Payload{}, err
	}
	var idOffset int
	if p.RendezvousID, idOffset, err = r.text(idLen, "rendezvous ID"); err != nil {
		return Payload{}, err
	}
	// An ID over 255 bytes (possible only with a 2-byte length) is reported
	// after the rest has parsed, so that the error means "this is a 2-byte
	// payload whose ID is too long" rather than "not a 2-byte payload".
	var idErr error
	if idLen > maxIDLen {
		idErr = formatErr(ErrIDTooLong, "rendezvous ID length", lengthOffset, "%d bytes, at most %d", idLen, maxIDLen)
	} else if err := checkRendezvousID(p.RendezvousID, idOffset); err != nil {
		return Payload{}, err
	}

	urlLen, err := r.uint16("base URL length")
	if err != nil {
		return Payload{}, err
	}
	var urlOffset int
	if p.BaseURL, urlOffset, err = r.text(urlLen, "base URL"); err != nil {
		return Payload{}, err
	}
	if err := checkHTTPURL(p.BaseURL, "base URL", urlOffset); err != nil {
		return Payload{}, err
	}
	if err := r.end(); err != nil {
		return Payload{}, err
	}
	if idErr != nil {
		return Payload{}, idErr
	}
	return p, nil
}
