package assets

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/qrlogin/qrlogin/internal/identity"
)

func TestHicolorPNGsHaveTheirNamedSize(t *testing.T) {
	for _, size := range HicolorSizes {
		path := filepath.Join("icons", "hicolor", fmt.Sprintf("%dx%d", size, size), "apps", identity.AppID+".png")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v (run `make icons`)", path, err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
			t.Errorf("%s is %dx%d", path, b.Dx(), b.Dy())
		}
		if opaque := opaqueFraction(img); opaque < 0.5 {
			t.Errorf("%s: only %.0f%% of pixels opaque; the tile should fill most of the square", path, 100*opaque)
		}
	}
}

func TestEmbeddedPNGIsThe256Rendering(t *testing.T) {
	onDisk, err := os.ReadFile(filepath.Join("icons", "hicolor", "256x256", "apps", identity.AppID+".png"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk, IconPNG256) {
		t.Fatal("embedded IconPNG256 differs from the file")
	}
}

func TestSVGIsWellFormedAndSquare(t *testing.T) {
	var root struct {
		XMLName xml.Name
		ViewBox string `xml:"viewBox,attr"`
	}
	if err := xml.Unmarshal(IconSVG, &root); err != nil {
		t.Fatalf("icon SVG: %v", err)
	}
	if root.XMLName.Local != "svg" || root.ViewBox != "0 0 256 256" {
		t.Fatalf("root <%s viewBox=%q>, want <svg viewBox=\"0 0 256 256\">", root.XMLName.Local, root.ViewBox)
	}
}

func opaqueFraction(img image.Image) float64 {
	b := img.Bounds()
	opaque := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if _, _, _, a := img.At(x, y).RGBA(); a > 0xf000 {
				opaque++
			}
		}
	}
	return float64(opaque) / float64(b.Dx()*b.Dy())
}
