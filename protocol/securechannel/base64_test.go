package securechannel

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// The padding rule of base64.go: unpadded on output; on input no, partial
// or canonical padding, nothing looser.
func TestDecodeBase64(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string // decoded bytes; "" with ok false means an error
		ok   bool
	}{
		{"", "", true},
		// One byte: canonical padding "==".
		{"QQ", "A", true},
		{"QQ=", "A", true}, // partially padded
		{"QQ==", "A", true},
		{"QQ===", "", false},
		// Two bytes: canonical padding "=".
		{"QUI", "AB", true},
		{"QUI=", "AB", true},
		{"QUI==", "", false},
		// Three bytes: no padding belongs there.
		{"QUJD", "ABC", true},
		{"QUJD=", "", false},
		{"QUJD==", "", false},
		{"QUJDRA", "ABCD", true},
		{"QUJDRA=", "ABCD", true}, // partially padded after a full group
		{"QUJDRA==", "ABCD", true},
		// Padding alone, or where it cannot be.
		{"=", "", false},
		{"==", "", false},
		{"Q", "", false},
		{"Q=", "", false},
		{"Q===", "", false},
		{"QQ=A", "", false},
		{"Q=Q=", "", false},
		// Non-zero unused bits: "QR" would also decode to "A" leniently.
		{"QR", "", false},
		{"QUJ", "", false},
		// Alphabet: standard only.
		{"+/8", "\xfb\xff", true},
		{"-_8", "", false},
		{"QQ-_", "", false},
		// No line breaks or spaces anywhere.
		{"QU\nJD", "", false},
		{"QUJD\r\n", "", false},
		{"QUJD\n", "", false},
		{" QUJD", "", false},
		{"QU JD", "", false},
	} {
		got, err := decodeBase64(c.in)
		switch {
		case c.ok && (err != nil || !bytes.Equal(got, []byte(c.want))):
			t.Errorf("decodeBase64(%q) = %q, %v; want %q", c.in, got, err, c.want)
		case !c.ok && !errors.Is(err, errBase64):
			t.Errorf("decodeBase64(%q) = %q, %v; want errBase64", c.in, got, err)
		}
	}
}

func TestEncodeBase64(t *testing.T) {
	for in, want := range map[string]string{"": "", "A": "QQ", "AB": "QUI", "ABC": "QUJD", "\xfb\xff": "+/8"} {
		if got := encodeBase64([]byte(in)); got != want {
			t.Errorf("encodeBase64(%q) = %q, want %q", in, got, want)
		}
		if got, err := decodeBase64(want); err != nil || string(got) != in {
			t.Errorf("round trip of %q: %q, %v", in, got, err)
		}
	}
}

// Both generations read a message however much of its padding it carries
// (the same rule for the HPKE and the ECIES channel).
func TestChannelMessagesAcceptPadding(t *testing.T) {
	for _, gen := range []vocab.Generation{vocab.MSC4388, vocab.MSC4108v2024} {
		t.Run(string(gen), func(t *testing.T) {
			p := mustPair(t, defaultPairOptions(gen))
			partial := 0
			for n := 1; n <= 6; n++ {
				msg := strings.Repeat("x", n)
				wire, err := p.s.cipher.seal(nil, []byte(msg))
				if err != nil {
					t.Fatal(err)
				}
				if strings.HasSuffix(wire, "=") {
					t.Fatalf("sealed output is padded: %q", wire)
				}
				switch len(wire) % 4 {
				case 2: // canonical "==": send only the first
					wire += "="
					partial++
				case 3:
					wire += "="
				}
				pt, err := p.g.cipher.open(nil, wire)
				if err != nil || string(pt) != msg {
					t.Fatalf("open(%q) = %q, %v", wire, pt, err)
				}
			}
			if partial == 0 {
				t.Fatal("no message needed two '='; the partial case was not tried")
			}
		})
	}
}
