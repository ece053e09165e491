package qrcode

import "bytes"

// Decode parses the bytes of a scanned sign-in QR code of either generation
// and reports which one it is in Payload.Generation. It routes by prefix and
// type byte: IO_ELEMENT_MSC4388 ‖ 0x03 and MATRIX ‖ 0x03 are MSC4388,
// MATRIX ‖ 0x02 is the 2024 MSC4108 format. Errors are *FormatError.
func Decode(b []byte) (Payload, error) {
	for _, prefix := range []Prefix{PrefixUnstable, PrefixStable} {
		if len(b) < len(prefix) && bytes.HasPrefix([]byte(prefix), b) {
			return Payload{}, formatErr(ErrTruncated, "prefix", 0, "%d of %q", len(b), prefix)
		}
		if !bytes.HasPrefix(b, []byte(prefix)) {
			continue
		}
		typeOffset := len(prefix)
		if typeOffset >= len(b) {
			return Payload{}, formatErr(ErrTruncated, "type", typeOffset, "")
		}
		switch t := b[typeOffset]; {
		case t == typeMSC4388:
			return decodeMSC4388(b, prefix)
		case t == version2024 && prefix == PrefixStable:
			return decodeMSC4108v2024(b)
		default:
			return Payload{}, formatErr(ErrUnknownType, "type", typeOffset, "0x%02x after %s", t, prefix)
		}
	}
	return Payload{}, formatErr(ErrBadPrefix, "prefix", 0, "want %q or %q", PrefixUnstable, PrefixStable)
}
