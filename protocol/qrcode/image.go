package qrcode

import (
	"image"
	"image/color"
)

// MaxScale bounds pixels per module: a version-40 code at 32 is 5920 px
// square, already far more than any screen needs.
const MaxScale = 32

// palette: index 0 light, 1 dark; PNG stores this as a 1-bit image.
var palette = color.Palette{color.Gray{Y: 0xff}, color.Gray{Y: 0x00}}

// Image renders payload as a QR code image (byte mode, level Q, 4-module
// quiet zone), scale pixels per module, black on white. The result is a
// two-colour *image.Paletted that Fyne can show with
// canvas.NewImageFromImage (set ScaleMode to canvas.ImageScalePixels to keep
// the modules crisp) and image/png writes as a 1-bit PNG.
func Image(payload []byte, scale int) (*image.Paletted, error) {
	m, err := NewMatrix(payload)
	if err != nil {
		return nil, err
	}
	return m.Image(scale)
}

// Image draws the matrix, scale pixels per module.
func (m Matrix) Image(scale int) (*image.Paletted, error) {
	if scale < 1 || scale > MaxScale {
		return nil, encodeErr(ErrBadScale, "scale", "%d pixels per module, want 1 to %d", scale, MaxScale)
	}
	side := m.Size() * scale
	img := image.NewPaletted(image.Rect(0, 0, side, side), palette)
	for y, row := range m.Modules {
		line := img.Pix[y*scale*img.Stride : y*scale*img.Stride+side]
		for x, dark := range row[:min(len(row), m.Size())] { // rows may be ragged if built by hand
			if dark {
				for i := x * scale; i < (x+1)*scale; i++ {
					line[i] = 1
				}
			}
		}
		// The other scale-1 pixel rows of this module row are the same.
		for r := 1; r < scale; r++ {
			copy(img.Pix[(y*scale+r)*img.Stride:], line)
		}
	}
	return img, nil
}
