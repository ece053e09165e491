package securechannel

// Generation names a protocol stack. The strings are part of the --json
// contract ({"event":"qr","protocol":...}) and of the settings file.
type Generation string

const (
	// MSC4388 is the QR type 0x03 / sequence-token rendezvous / HPKE stack.
	MSC4388 Generation = "msc4388"
	// MSC4108v2024 is the QR version 0x02 / ETag rendezvous / ECIES stack
	// that released phones speak today.
	MSC4108v2024 Generation = "msc4108-2024"
)

// Variant selects between the reference implementations' behaviour and the
// MSC text where they differ (REFERENCE-IMPLEMENTATIONS.md 1.9). It only
// matters for MSC4388.
type Variant string

const (
	// VariantReference interoperates with vodozemac / matrix-rust-sdk PR #6173
	// and Synapse: IO_ELEMENT_MSC4388 prefix, unstable paths and errcodes,
	// export labels MATRIX_QR_CODE_LOGIN_RESPONSE and
	// MATRIX_QR_CODE_LOGIN_CHECKCODE|b64(Gp)|b64(Sp). The default.
	VariantReference Variant = "reference"
	// VariantMSCText follows the MSC4388 text: MATRIX prefix,
	// /_matrix/client/v1/rendezvous, M_CONCURRENT_WRITE, and the text's
	// export labels ("MATRIX_QR_CODE_LOGIN response", raw Gp||Sp).
	VariantMSCText Variant = "msc-text"
)
