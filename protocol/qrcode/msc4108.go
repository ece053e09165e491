package qrcode

import "github.com/qrlogin/qrlogin/protocol/vocab"

// The 2024 MSC4108 format (docs/protocol-divergences.md "2024 QR format"):
// MATRIX ‖ 0x02 ‖ mode ‖ key ‖ u16 len ‖ rendezvous URL ‖ (mode 0x04 only)
// u16 len ‖ server name.
const (
	version2024 = 0x02
	// mode2024Offset maps an Intent to the 2024 mode byte: 0x03 "login"
	// (new device), 0x04 "reciprocate" (existing device). Modes 0x00-0x02
	// of version 0x02 are the spec's device-verification QR codes.
	mode2024Offset = 0x03
)

func (p Payload) encodeMSC4108v2024() ([]byte, error) {
	if !p.Intent.valid() {
		return nil, encodeErr(ErrUnknownIntent, "intent", "0x%02x", byte(p.Intent))
	}
	if err := checkHTTPURL(p.RendezvousURL, "rendezvous URL", -1); err != nil {
		return nil, err
	}
	hasServer := p.Intent == IntentExistingDevice
	if hasServer {
		if err := checkServerName(p.ServerName, -1); err != nil {
			return nil, err
		}
	} else if p.ServerName != "" {
		return nil, encodeErr(ErrTrailingBytes, "server name", "only an existing device (mode 0x04) sends one")
	}

	b := make([]byte, 0, len(PrefixStable)+2+KeySize+2+len(p.RendezvousURL)+2+len(p.ServerName))
	b = append(b, PrefixStable...)
	b = append(b, version2024, byte(p.Intent)+mode2024Offset)
	b = append(b, p.PublicKey[:]...)
	b = appendUint16(b, len(p.RendezvousURL))
	b = append(b, p.RendezvousURL...)
	if hasServer {
		b = appendUint16(b, len(p.ServerName))
		b = append(b, p.ServerName...)
	}
	return b, nil
}

// decodeMSC4108v2024 parses what follows MATRIX ‖ 0x02.
func decodeMSC4108v2024(b []byte) (Payload, error) {
	r := reader{buf: b, off: len(PrefixStable) + 1}
	p := Payload{Generation: vocab.MSC4108v2024}

	modeOffset := r.off
	mode, err := r.byte1("mode")
	if err != nil {
		return Payload{}, err
	}
	switch {
	case mode == byte(IntentNewDevice)+mode2024Offset || mode == byte(IntentExistingDevice)+mode2024Offset:
		p.Intent = Intent(mode - mode2024Offset)
	case mode < mode2024Offset:
		return Payload{}, formatErr(ErrUnknownIntent, "mode", modeOffset, "0x%02x is a device-verification QR code, not sign-in", mode)
	default:
		return Payload{}, formatErr(ErrUnknownIntent, "mode", modeOffset, "0x%02x, want 0x03 (new device) or 0x04 (existing device)", mode)
	}
	key, err := r.bytes(KeySize, "public key")
	if err != nil {
		return Payload{}, err
	}
	copy(p.PublicKey[:], key)

	urlLen, err := r.uint16("rendezvous URL length")
	if err != nil {
		return Payload{}, err
	}
	var urlOffset int
	if p.RendezvousURL, urlOffset, err = r.text(urlLen, "rendezvous URL"); err != nil {
		return Payload{}, err
	}
	if err := checkHTTPURL(p.RendezvousURL, "rendezvous URL", urlOffset); err != nil {
		return Payload{}, err
	}

	if p.Intent == IntentExistingDevice {
		nameLen, err := r.uint16("server name length")
		if err != nil {
			return Payload{}, err
		}
		var nameOffset int
		if p.ServerName, nameOffset, err = r.text(nameLen, "server name"); err != nil {
			return Payload{}, err
		}
		if err := checkServerName(p.ServerName, nameOffset); err != nil {
			return Payload{}, err
		}
	}
	if err := r.end(); err != nil {
		return Payload{}, err
	}
	return p, nil
}
