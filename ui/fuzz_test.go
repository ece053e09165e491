package ui

import (
	"testing"

	"github.com/qrlogin/qrlogin/protocol/qrcode"
)

// FuzzQRImageDraw: any payload and any raster size draws without a panic,
// and the picture is exactly the size asked for.
func FuzzQRImageDraw(f *testing.F) {
	f.Add(testPayload(1), 536, 536)
	f.Add([]byte{}, 1, 1)
	f.Add([]byte("x"), 0, 5000)
	f.Fuzz(func(t *testing.T, payload []byte, w, h int) {
		if w < 0 || h < 0 || w > 4000 || h > 4000 {
			return
		}
		m, err := qrcode.NewMatrix(payload)
		if err != nil {
			return
		}
		img := newQRImage(m).draw(w, h)
		if b := img.Bounds(); b.Dx() != max(w, 1) || b.Dy() != max(h, 1) {
			t.Fatalf("drew %v for %dx%d", b, w, h)
		}
	})
}

// BenchmarkQRImageDraw is the cost of drawing the code once at the window's
// size on a 200% screen (the raster is drawn again only on a fresh code or
// a resize, never per frame).
func BenchmarkQRImageDraw(b *testing.B) {
	m, err := qrcode.NewMatrix(testPayload(1))
	if err != nil {
		b.Fatal(err)
	}
	q := newQRImage(m)
	b.ReportAllocs()
	for b.Loop() {
		q.draw(1072, 1072)
	}
}
