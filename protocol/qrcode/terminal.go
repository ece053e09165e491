package qrcode

import (
	"io"
	"strings"
)

// Half-block glyphs: each text cell shows two module rows, the upper in the
// top half and the lower in the bottom half. "Ink" is the glyph's foreground.
const (
	glyphNone  = ' '
	glyphUpper = '▀'
	glyphLower = '▄'
	glyphBoth  = '█'
)

// TerminalOptions adjusts Terminal for the terminal's colours.
type TerminalOptions struct {
	// Invert is for terminals with dark text on a light background. By
	// default Terminal assumes light text on a dark background, the default
	// of most terminal emulators: the glyphs' ink draws the light modules
	// (and the quiet zone) and the dark background shows through as the dark
	// modules, so a phone sees dark on light, as scanners expect. With Invert
	// the ink draws the dark modules instead.
	Invert bool
}

// Terminal renders the matrix with Unicode half blocks (▀ ▄ █ and space),
// two module rows per line, quiet zone included, one "\n" after each line.
// Modules come out roughly square because a terminal cell is about twice as
// tall as it is wide. For an odd number of rows the last line's lower half
// is left without ink.
func (m Matrix) Terminal(opts TerminalOptions) string {
	var sb strings.Builder
	sb.Grow((m.Size() + 1) / 2 * (m.Size()*len(string(glyphBoth)) + 1))
	inked := func(x, y int) bool {
		if y >= m.Size() {
			return false // below the symbol: plain terminal background
		}
		return m.Dark(x, y) == opts.Invert
	}
	for y := 0; y < m.Size(); y += 2 {
		for x := 0; x < m.Size(); x++ {
			switch upper, lower := inked(x, y), inked(x, y+1); {
			case upper && lower:
				sb.WriteRune(glyphBoth)
			case upper:
				sb.WriteRune(glyphUpper)
			case lower:
				sb.WriteRune(glyphLower)
			default:
				sb.WriteRune(glyphNone)
			}
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

// WriteTerminal writes m.Terminal(opts) to w (for `qrlogin login --headless`).
func (m Matrix) WriteTerminal(w io.Writer, opts TerminalOptions) error {
	_, err := io.WriteString(w, m.Terminal(opts))
	return err
}
