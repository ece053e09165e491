// Package assets holds the files that ship inside the qrlogin binary: the app
// icon (drawn as SVG, rendered to the hicolor PNG sizes by `make icons`).
// The desktop entry and AppStream metainfo in linux/ are installed by the
// packages, not embedded.
package assets

import (
	_ "embed"
)

// IconSVG is the scalable app icon, the source of every PNG size.
//
//go:embed icons/io.github.qrlogin.QRLogin.svg
var IconSVG []byte

// IconPNG256 is the 256x256 rendering, for consumers that cannot draw SVG.
//
//go:embed icons/hicolor/256x256/apps/io.github.qrlogin.QRLogin.png
var IconPNG256 []byte

// HicolorSizes are the square PNG sizes under icons/hicolor/ (what Rymdport
// and most GNOME apps ship; docs/design-notes.md "Icons").
var HicolorSizes = []int{16, 24, 32, 48, 64, 128, 256, 512}
