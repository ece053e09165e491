package qrcode

import (
	yeqown "github.com/yeqown/go-qrcode/v2"
)

// QuietZone is the light margin around the symbol, in modules; ISO/IEC 18004
// asks for 4, and phone scanners need it.
const QuietZone = 4

// MaxPayload is the most bytes one byte-mode segment holds at level Q
// (version 40). Sign-in payloads are about 110-200 bytes.
const MaxPayload = 1663

// Matrix is a rendered QR symbol: Modules[y][x] is true for a dark module.
// It includes the QuietZone light modules on every side, so it is square,
// Size() modules wide, and can be drawn as is.
type Matrix struct {
	Modules [][]bool
}

// Size is the width and height in modules, quiet zone included.
func (m Matrix) Size() int { return len(m.Modules) }

// Version is the QR version (1-40): the symbol is 17+4·version modules wide.
// The MSC4388 example is version 9, 53×53, as `qrencode -8 -l Q` makes it.
func (m Matrix) Version() int { return (m.Size() - 2*QuietZone - 17) / 4 }

// Dark reports whether the module at column x, row y is dark; anything
// outside the matrix is light (more quiet zone).
func (m Matrix) Dark(x, y int) bool {
	if y < 0 || y >= len(m.Modules) || x < 0 || x >= len(m.Modules[y]) {
		return false
	}
	return m.Modules[y][x]
}

// NewMatrix encodes payload as exactly one byte-mode segment at
// error-correction level Q, the form MSC4388 asks for ("a binary mode QR")
// and its examples use. Forcing byte mode matters: a mixed-mode encoder
// splits ASCII runs such as "MATRIX" or a ULID into alphanumeric segments,
// which some decoders then hand back without those bytes
// (docs/build-notes.md "QR encoding").
func NewMatrix(payload []byte) (Matrix, error) {
	if len(payload) > MaxPayload {
		return Matrix{}, encodeErr(ErrPayloadTooLarge, "payload", "%d bytes, at most %d", len(payload), MaxPayload)
	}
	code, err := yeqown.NewWith(payload,
		yeqown.WithEncodingMode(yeqown.EncModeByte),
		yeqown.WithErrorCorrectionLevel(yeqown.ErrorCorrectionQuart))
	if err != nil {
		return Matrix{}, encodeErr(ErrPayloadTooLarge, "payload", "%v", err)
	}
	var grab bitmapWriter
	if err := code.Save(&grab); err != nil {
		return Matrix{}, err
	}
	return withQuietZone(grab.bitmap), nil
}

// bitmapWriter receives the module matrix from yeqown's QRCode.Save; the
// library's image writers live in a separate module we do not use.
type bitmapWriter struct{ bitmap [][]bool }

func (w *bitmapWriter) Write(m yeqown.Matrix) error { w.bitmap = m.Bitmap(); return nil }
func (w *bitmapWriter) Close() error                { return nil }

func withQuietZone(symbol [][]bool) Matrix {
	size := len(symbol) + 2*QuietZone
	cells := make([]bool, size*size) // one allocation for all rows
	rows := make([][]bool, size)
	for y := range rows {
		rows[y] = cells[y*size : (y+1)*size : (y+1)*size]
	}
	for y, row := range symbol {
		copy(rows[y+QuietZone][QuietZone:], row)
	}
	return Matrix{Modules: rows}
}
