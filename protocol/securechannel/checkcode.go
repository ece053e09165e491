package securechannel

import (
	"strconv"
	"strings"
)

// ParseCheckCode reads the check code a person typed: one or two ASCII
// digits, spaces around them ignored; anything else is ErrCheckCodeFormat.
// The 2024 code is a number from 0 to 99 that a phone may show as 7 rather
// than 07 (docs/protocol-divergences.md "Check code"), so the value is what
// counts. The
// window, the terminal and Confirm all read codes with it, so a code one of
// them takes is a code the others take.
func ParseCheckCode(typed string) (int, error) {
	typed = strings.TrimSpace(typed)
	if len(typed) < 1 || len(typed) > 2 || strings.Trim(typed, "0123456789") != "" {
		return 0, ErrCheckCodeFormat
	}
	n, err := strconv.Atoi(typed)
	if err != nil {
		return 0, ErrCheckCodeFormat
	}
	return n, nil
}
