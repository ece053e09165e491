package ui

import (
	"image"
	"image/color"
	"math"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"github.com/makiuchi-d/gozxing"
	zxingqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/qrlogin/qrlogin/protocol/login"
)

// readQR reads the QR code off a window capture with ZXing (a decoder that
// shares no code with ours), as a phone camera would see the screen.
func readQR(t *testing.T, img image.Image) []byte {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := zxingqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("no QR code readable in the window: %v", err)
	}
	segs, _ := res.GetResultMetadata()[gozxing.ResultMetadataType_BYTE_SEGMENTS].([][]byte)
	var out []byte
	for _, s := range segs {
		out = append(out, s...)
	}
	return out
}

// variants are the two real themes; the test app's own theme is neither.
var variants = []struct {
	name  string
	theme fyne.Theme
}{
	{"light", forcedVariant{theme.DefaultTheme(), theme.VariantLight}},
	{"dark", forcedVariant{theme.DefaultTheme(), theme.VariantDark}},
}

// forcedVariant is the default theme in one variant whatever the system
// prefers (what theme.LightTheme and DarkTheme did before their
// deprecation).
type forcedVariant struct {
	fyne.Theme
	variant fyne.ThemeVariant
}

func (f forcedVariant) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return f.Theme.Color(n, f.variant)
}

// TestQRIsBlackOnWhiteInBothThemes: the code reads back from the pixels
// with dark modules on light, and its quiet zone is white, on both themes.
func TestQRIsBlackOnWhiteInBothThemes(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			h := newHarness(t)
			fyne.CurrentApp().Settings().SetTheme(v.theme)
			h.signInToQR("")
			img := h.window.Canvas().Capture()
			if got := readQR(t, img); string(got) != string(testPayload(1)) {
				t.Fatalf("QR says %q", got)
			}
			pos := absolutePosition(h.window.Content(), h.app.qr.image.raster)
			scale := h.window.Canvas().Scale()
			x, y := int(pos.X*scale)+2, int(pos.Y*scale)+2 // inside the quiet zone
			if c := color.GrayModel.Convert(img.At(x, y)).(color.Gray); c.Y != 0xff {
				t.Fatalf("quiet zone pixel %v, want white", c)
			}
		})
	}
}

// TestThemeTextContrast: the colours the screens use for text meet WCAG
// AA (4.5:1) on the background in both themes, and the error and link
// colours at least 3:1 (they are also marked by an icon or underline). The
// screens avoid the warning and disabled colours for text: they fail this
// on the light theme.
func TestThemeTextContrast(t *testing.T) {
	for _, v := range variants {
		bg := v.theme.Color(theme.ColorNameBackground, 0)
		for name, want := range map[fyne.ThemeColorName]float64{
			theme.ColorNameForeground: 4.5,
			theme.ColorNameError:      3,
			theme.ColorNameHyperlink:  3,
		} {
			if got := contrast(v.theme.Color(name, 0), bg); got < want {
				t.Errorf("%s theme: %s on background contrast %.2f, want ≥ %.1f", v.name, name, got, want)
			}
		}
	}
}

// contrast is the WCAG 2 contrast ratio.
func contrast(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		s := float64(v) / 0xffff
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// absolutePosition finds target under root and adds up its parents'
// positions.
func absolutePosition(root, target fyne.CanvasObject) fyne.Position {
	var find func(o fyne.CanvasObject, at fyne.Position) (fyne.Position, bool)
	find = func(o fyne.CanvasObject, at fyne.Position) (fyne.Position, bool) {
		at = at.Add(o.Position())
		if o == target {
			return at, true
		}
		var children []fyne.CanvasObject
		switch v := o.(type) {
		case *fyne.Container:
			children = v.Objects
		case fyne.Widget:
			children = test.WidgetRenderer(v).Objects()
		}
		for _, c := range children {
			if p, ok := find(c, at); ok {
				return p, true
			}
		}
		return fyne.Position{}, false
	}
	p, _ := find(root, fyne.Position{})
	return p
}

// TestApproveCodeIsLargeAndReadableInBothThemes: the user code is drawn
// at least twice the body text size, monospaced, in a colour that meets
// WCAG AA on the background, on both themes (docs/design-notes.md
// "Legibility and layout").
func TestApproveCodeIsLargeAndReadableInBothThemes(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			h := newHarness(t)
			fyne.CurrentApp().Settings().SetTheme(v.theme)
			h.signInToQR("")
			h.emit(login.UserCode{UserCode: "RKTT-2QXW", ExpiresAt: testNow.Add(time.Minute)})
			var code *canvas.Text
			for _, c := range widgets[*canvas.Text](h) {
				if c.Text == "RKTT-2QXW" {
					code = c
				}
			}
			if code == nil {
				t.Fatal("no user code drawn")
			}
			if body := v.theme.Size(theme.SizeNameText); code.TextSize < 2*body || !code.TextStyle.Monospace {
				t.Fatalf("code drawn at %v (body text %v), monospace %v", code.TextSize, body, code.TextStyle.Monospace)
			}
			if got := contrast(code.Color, v.theme.Color(theme.ColorNameBackground, 0)); got < 4.5 {
				t.Fatalf("code contrast %.2f, want ≥ 4.5", got)
			}
		})
	}
}
