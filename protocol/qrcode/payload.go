package qrcode

import (
	"fmt"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// KeySize is the length of the Curve25519 public key in every form.
const KeySize = 32

// Intent says which side of the sign-in the device showing the QR code is.
// The values are MSC4388's intent bytes; the 2024 format writes them as mode
// 0x03 and 0x04 (intent + 3).
type Intent byte

const (
	// IntentNewDevice: the generating device wants to sign in (MSC4388 intent
	// 0x00, 2024 mode 0x03 "login"). qrlogin's main role.
	IntentNewDevice Intent = 0x00
	// IntentExistingDevice: the generating device is signed in and wants to
	// sign another one in (MSC4388 intent 0x01, 2024 mode 0x04
	// "reciprocate").
	IntentExistingDevice Intent = 0x01
)

func (i Intent) String() string {
	switch i {
	case IntentNewDevice:
		return "new device"
	case IntentExistingDevice:
		return "existing device"
	default:
		return fmt.Sprintf("intent(0x%02x)", byte(i))
	}
}

func (i Intent) valid() bool { return i == IntentNewDevice || i == IntentExistingDevice }

// Prefix is the ASCII string an MSC4388 payload starts with.
type Prefix string

const (
	// PrefixUnstable is MSC4388 "Unstable QR code format". It is the only
	// MSC4388 prefix the reference code parses (docs/protocol-divergences.md
	// "QR prefix"), hence the default.
	PrefixUnstable Prefix = "IO_ELEMENT_MSC4388"
	// PrefixStable is the MSC text's MATRIX. rust-sdk routes every MATRIX
	// payload to its 2024 parser, which rejects type 0x03, so only emit this
	// once the MSC is merged.
	PrefixStable Prefix = "MATRIX"
)

// PrefixFor picks the MSC4388 prefix that goes with a channel variant: the
// MSC text's stable MATRIX for VariantMSCText, the unstable prefix otherwise.
func PrefixFor(v vocab.Variant) Prefix {
	if v == vocab.VariantMSCText {
		return PrefixStable
	}
	return PrefixUnstable
}

// Payload is the content of a sign-in QR code of either generation.
// Generation says which fields apply; the others are left empty.
type Payload struct {
	// Generation is MSC4388 or MSC4108v2024.
	Generation vocab.Generation
	// Intent of the device that shows the QR code.
	Intent Intent
	// PublicKey is the generating device's ephemeral Curve25519 key (public,
	// so safe to print).
	PublicKey [KeySize]byte

	// Prefix (MSC4388 only): empty means PrefixUnstable when encoding.
	Prefix Prefix
	// IDLengthWidth (MSC4388 only) is the size of the rendezvous-ID length
	// field: 1 byte as in the MSC text since 2026-06-03 (the default when
	// 0), or 2 bytes big-endian as rust-sdk main and matrix-sdk-crypto-wasm
	// 18.9 emit (docs/protocol-divergences.md "QR rendezvous-ID length").
	// Decode sets it to what it found, so re-encoding reproduces the input.
	IDLengthWidth int
	// RendezvousID (MSC4388 only), an opaque identifier of 1 to 255 bytes.
	RendezvousID string
	// BaseURL (MSC4388 only) is the homeserver's client-server base URL as
	// carried in the QR code. Encode drops a lone trailing "/" as the
	// reference encoder does (docs/protocol-divergences.md "Base URL in the
	// QR"); the channel's AAD normalises it separately ("Base URL in the
	// AAD").
	BaseURL string

	// RendezvousURL (2024 only) is the full URL of the rendezvous session.
	RendezvousURL string
	// ServerName (2024, IntentExistingDevice only) is the homeserver the
	// existing device is signed in to: a bare server name (js-sdk:
	// "matrix.org") or a full URL (rust-sdk: "https://example.org/").
	ServerName string
}

// Encode returns the QR code bytes. It validates every field and never
// writes a payload Decode would reject.
func (p Payload) Encode() ([]byte, error) {
	switch p.Generation {
	case vocab.MSC4388:
		return p.encodeMSC4388()
	case vocab.MSC4108v2024:
		return p.encodeMSC4108v2024()
	default:
		return nil, encodeErr(ErrUnknownType, "generation", "%q", p.Generation)
	}
}

func (p Payload) String() string {
	switch p.Generation {
	case vocab.MSC4388:
		return fmt.Sprintf("%s QR (%s, %s): rendezvous ID %q on %q",
			p.Generation, p.prefixOrDefault(), p.Intent, p.RendezvousID, p.BaseURL)
	case vocab.MSC4108v2024:
		s := fmt.Sprintf("%s QR (%s): rendezvous %q", p.Generation, p.Intent, p.RendezvousURL)
		if p.ServerName != "" {
			s += fmt.Sprintf(" for server %q", p.ServerName)
		}
		return s
	default:
		return fmt.Sprintf("QR of unknown generation %q", p.Generation)
	}
}

func (p Payload) prefixOrDefault() Prefix {
	if p.Prefix == "" {
		return PrefixUnstable
	}
	return p.Prefix
}
