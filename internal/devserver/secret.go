package devserver

import (
	"crypto/rand"
	"fmt"
)

// Secret is a string that must not end up in logs: it prints, formats and
// marshals as "[redacted]". Reveal gives the value to the one place that
// needs it (e.g. the scripted phone's m.login.secrets message).
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

func (Secret) String() string   { return redacted }
func (Secret) GoString() string { return redacted }

// Format keeps %s, %v, %q, %x and friends from printing the value.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalText keeps encoding/json and similar encoders from printing it.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

const (
	alphanumeric      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	upperAlphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	upperLetters      = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

// randomString draws n characters uniformly from alphabet (at most 256
// characters) with crypto/rand, which never fails since Go 1.24.
func randomString(n int, alphabet string) string {
	out := make([]byte, n)
	buf := make([]byte, 1)
	limit := 256 - 256%len(alphabet) // reject to avoid modulo bias
	for i := 0; i < n; {
		_, _ = rand.Read(buf)
		if int(buf[0]) >= limit {
			continue
		}
		out[i] = alphabet[int(buf[0])%len(alphabet)]
		i++
	}
	return string(out)
}
