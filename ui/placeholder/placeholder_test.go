package placeholder

import (
	"image"
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/qrlogin/qrlogin/internal/identity"
)

func TestStartScreenShowsNameTaglineAndVersion(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewWindow(New())
	defer w.Close()
	w.Resize(fyne.NewSize(520, 400))

	var texts []string
	collectLabels(w.Content(), &texts)
	for _, want := range []string{identity.DisplayName, Tagline, "Version " + identity.Version} {
		if !slices.Contains(texts, want) {
			t.Errorf("no label %q among %q", want, texts)
		}
	}
}

func TestStartScreenRendersTheIcon(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewWindow(New())
	defer w.Close()
	w.Resize(fyne.NewSize(520, 400))

	// The icon's blue tile and amber key must reach the software renderer:
	// a theme-only screen has a handful of greys.
	img := w.Canvas().Capture()
	var blue, amber int
	forEachPixel(img, func(r, g, b uint32) {
		switch {
		case b > 0xc000 && r < 0x4000 && g < 0x6000:
			blue++
		case r > 0xe000 && g > 0xa000 && b < 0x5000:
			amber++
		}
	})
	if blue < 1000 || amber < 200 {
		t.Fatalf("icon not drawn: %d blue and %d amber pixels", blue, amber)
	}
}

func collectLabels(o fyne.CanvasObject, into *[]string) {
	switch v := o.(type) {
	case *widget.Label:
		*into = append(*into, v.Text)
	case *fyne.Container:
		for _, child := range v.Objects {
			collectLabels(child, into)
		}
	}
}

func forEachPixel(img image.Image, f func(r, g, b uint32)) {
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			f(r, g, b)
		}
	}
}
