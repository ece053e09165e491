package ui

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// screenshotStates are the screens shown in the README.
var screenshotStates = map[string]bool{
	"start-accounts-demo": true, "qr-alternative": true, "check-code": true, "approve": true,
	"encryption": true, "done": true, "error-details": true, "accounts": true, "settings": true,
	"grant-qr": true, "grant-check-code": true, "grant-approve": true, "grant-done": true,
}

// TestScreenshots writes docs/screenshots/<screen>-<light|dark>.png with
// the real theme when QRLOGIN_SCREENSHOTS names the folder (`make
// screenshots`); otherwise it is skipped. The pictures come from Fyne's
// software painter, the same pixels the goldens' layout describes.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("QRLOGIN_SCREENSHOTS")
	if dir == "" {
		t.Skip("QRLOGIN_SCREENSHOTS is not set")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, v := range variants {
		for _, s := range screenStates {
			if !screenshotStates[s.name] {
				continue
			}
			h := newHarness(t, append([]harnessOption{withTheme(v.theme)}, s.opts...)...)
			s.to(h)
			h.settle()
			path := filepath.Join(dir, s.name+"-"+v.name+".png")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := png.Encode(f, h.window.Canvas().Capture()); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}
