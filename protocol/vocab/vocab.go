// Package vocab holds the words every protocol package shares: which
// protocol generation a sign-in speaks, which variant of MSC4388 where the
// reference implementations and the MSC text differ, how eagerly to poll,
// and the user's preference between generations. It imports nothing of the
// project, so every layer can use it (docs/ARCHITECTURE.md).
package vocab

import (
	"fmt"
	"strings"
)

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

// Other returns the generation that is not g.
func (g Generation) Other() Generation {
	if g == MSC4388 {
		return MSC4108v2024
	}
	return MSC4388
}

// Variant selects between the reference implementations' behaviour and the
// MSC text where they differ (docs/protocol-divergences.md). It only
// matters for MSC4388.
type Variant string

const (
	// VariantReference interoperates with vodozemac / matrix-rust-sdk and
	// Synapse: IO_ELEMENT_MSC4388 prefix, unstable paths and errcodes,
	// export labels MATRIX_QR_CODE_LOGIN_RESPONSE and
	// MATRIX_QR_CODE_LOGIN_CHECKCODE|b64(Gp)|b64(Sp). The default.
	VariantReference Variant = "reference"
	// VariantMSCText follows the MSC4388 text: MATRIX prefix,
	// /_matrix/client/v1/rendezvous, M_CONCURRENT_WRITE, and the text's
	// export labels ("MATRIX_QR_CODE_LOGIN response", raw Gp||Sp).
	VariantMSCText Variant = "msc-text"
)

// Pace tells a rendezvous Receive how eagerly to poll.
type Pace int

const (
	// PaceReply polls fast (about 250 ms): the peer is a program that answers
	// at once.
	PaceReply Pace = iota
	// PaceHuman polls slower: the peer waits for a person (scanning the QR,
	// approving on the phone).
	PaceHuman
)

// Preference is the user's choice of generation: "auto" or one of the
// Generation strings. It is stored in the settings file.
type Preference string

const (
	// Auto tries the generations in AutoOrder and takes the first the
	// server offers.
	Auto Preference = "auto"
	// PreferMSC4388 insists on MSC4388.
	PreferMSC4388 = Preference(MSC4388)
	// PreferMSC4108v2024 insists on the 2024 stack.
	PreferMSC4108v2024 = Preference(MSC4108v2024)
)

// autoOrder is the order Auto tries. Released phones complete only the 2024
// stack, so it comes first while a server offers both
// (docs/protocol-divergences.md). Flipping to MSC4388-first is swapping
// these two.
var autoOrder = [...]Generation{MSC4108v2024, MSC4388}

// ParsePreference accepts "auto", "msc4388" or "msc4108-2024"; "" is Auto.
func ParsePreference(s string) (Preference, error) {
	switch p := Preference(strings.ToLower(strings.TrimSpace(s))); p {
	case "", Auto:
		return Auto, nil
	case PreferMSC4388, PreferMSC4108v2024:
		return p, nil
	}
	return "", fmt.Errorf("unknown protocol preference %q (want auto, msc4388 or msc4108-2024)", s)
}

// Order lists the generations to try, best first: AutoOrder for Auto, the
// one named otherwise, none for an unknown preference.
func (p Preference) Order() []Generation {
	switch p {
	case Auto, "":
		return autoOrder[:]
	case PreferMSC4388, PreferMSC4108v2024:
		return []Generation{Generation(p)}
	}
	return nil
}
