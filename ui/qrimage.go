package ui

import (
	"image"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"

	"github.com/qrlogin/qrlogin/protocol/qrcode"
)

// qrMinSize is the smallest the code is drawn, in Fyne units: five device
// pixels per module at 100% for a version-9 code (61 modules with the quiet
// zone, the size of MSC4388's example), which phones read from a desk's
// distance.
const qrMinSize = 320

// Black on white whatever the theme: phone scanners expect dark modules on
// a light background, and the quiet zone must be light too.
var (
	qrLight = color.Gray{Y: 0xff}
	qrDark  = color.Gray{Y: 0x00}
)

// qrImage draws a module matrix at the largest whole number of device
// pixels per module that fits, centred on white. Whole pixels per module
// (nearest neighbour, never smoothed) keep the edges sharp at any scale
// factor; the 4-module quiet zone is part of the matrix.
type qrImage struct {
	matrix qrcode.Matrix
	raster *canvas.Raster
}

func newQRImage(m qrcode.Matrix) *qrImage {
	q := &qrImage{matrix: m}
	q.raster = canvas.NewRaster(q.draw)
	q.raster.ScaleMode = canvas.ImageScalePixels
	q.raster.SetMinSize(fyne.NewSquareSize(qrMinSize))
	return q
}

// set shows another code; the raster is drawn again once.
func (q *qrImage) set(m qrcode.Matrix) {
	q.matrix = m
	q.raster.Refresh()
}

// draw is the raster generator: w and h are device pixels.
func (q *qrImage) draw(w, h int) image.Image {
	img := image.NewGray(image.Rect(0, 0, max(w, 1), max(h, 1)))
	for i := range img.Pix {
		img.Pix[i] = qrLight.Y
	}
	n := q.matrix.Size()
	if n == 0 {
		return img
	}
	scale := min(w, h) / n
	if scale < 1 {
		return img // too small to be readable; stay blank rather than blur
	}
	x0, y0 := (w-n*scale)/2, (h-n*scale)/2
	for my := range n {
		for mx := range n {
			if !q.matrix.Dark(mx, my) {
				continue
			}
			for y := y0 + my*scale; y < y0+(my+1)*scale; y++ {
				row := img.Pix[y*img.Stride:]
				for x := x0 + mx*scale; x < x0+(mx+1)*scale; x++ {
					row[x] = qrDark.Y
				}
			}
		}
	}
	return img
}

// qrSideMinWidth is the least width the steps beside the code get.
const qrSideMinWidth = 340

// qrSplit lays out the QR screen's two columns: the code as a square as
// large as the height allows (leaving the steps at least qrSideMinWidth),
// and the steps in the rest.
type qrSplit struct{}

func (qrSplit) MinSize(objects []fyne.CanvasObject) fyne.Size {
	code, side := objects[0].MinSize(), objects[1].MinSize()
	pad := theme.Padding() * 2
	return fyne.NewSize(code.Width+pad+max(side.Width, qrSideMinWidth), max(code.Height, side.Height))
}

func (qrSplit) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	pad := theme.Padding() * 2
	edge := max(min(size.Height, size.Width-pad-qrSideMinWidth), objects[0].MinSize().Width)
	objects[0].Move(fyne.NewPos(0, (size.Height-edge)/2))
	objects[0].Resize(fyne.NewSquareSize(edge))
	objects[1].Move(fyne.NewPos(edge+pad, 0))
	objects[1].Resize(fyne.NewSize(size.Width-edge-pad, size.Height))
}
