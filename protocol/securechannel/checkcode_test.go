package securechannel

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// ParseCheckCode is the one reading of a typed check code, shared by the
// window, the terminal and Confirm: one or two ASCII digits after trimming
// the spaces around them; the 2024 code 07 may be typed as 7.
func TestParseCheckCode(t *testing.T) {
	for typed, want := range map[string]int{"7": 7, "07": 7, "99": 99, "00": 0, " 41 ": 41, "5\n": 5, "\t09": 9} {
		if got, err := ParseCheckCode(typed); err != nil || got != want {
			t.Errorf("ParseCheckCode(%q) = %d, %v, want %d", typed, got, err, want)
		}
	}
	for _, typed := range []string{"", " ", "123", "4a", "a", "-1", "+1", "1.5", "4 2", "٣", "７", "１２", "0x1", "\x00"} {
		if _, err := ParseCheckCode(typed); !errors.Is(err, ErrCheckCodeFormat) {
			t.Errorf("ParseCheckCode(%q) = %v, want ErrCheckCodeFormat", typed, err)
		}
	}
}

var checkCodePattern = regexp.MustCompile(`^[0-9]{1,2}$`)

// FuzzParseCheckCode: exactly one or two ASCII digits (around spaces
// aside) are a check code, whatever is typed or pasted.
func FuzzParseCheckCode(f *testing.F) {
	for _, s := range []string{"7", "07", "123", "4a", "", " 7", "٣", "７", "\x00", "9\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseCheckCode(s)
		want := checkCodePattern.MatchString(strings.TrimSpace(s))
		if (err == nil) != want {
			t.Fatalf("ParseCheckCode(%q) = %v, want ok %v", s, err, want)
		}
		if err != nil && !errors.Is(err, ErrCheckCodeFormat) {
			t.Fatalf("untyped error %v", err)
		}
		if err == nil && (n < 0 || n > 99) {
			t.Fatalf("ParseCheckCode(%q) = %d", s, n)
		}
	})
}
