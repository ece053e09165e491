package accounts

import (
	"fmt"
	"io"
)

// Secret is a token, key or pickle held in memory on its way to or from the
// keyring. It never prints: fmt, %v, %#v and JSON all show [redacted].
type Secret string

const redacted = "[redacted]"

// String implements fmt.Stringer without revealing the value.
func (Secret) String() string { return redacted }

// GoString implements fmt.GoStringer without revealing the value.
func (Secret) GoString() string { return redacted }

// Format covers every verb (%d, %x, %q ... would otherwise print the value).
func (Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// MarshalJSON keeps secrets out of any JSON that is logged or printed.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// Reveal returns the value, for the one place that must use it.
func (s Secret) Reveal() string { return string(s) }
