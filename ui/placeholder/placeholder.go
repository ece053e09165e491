// Package placeholder is the start screen the window shows until the sign-in
// screens exist: the app's icon, name, purpose and version. It builds widgets
// only (no fyne.io/fyne/v2/app), so its tests run on Fyne's test driver
// without a display.
package placeholder

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/qrlogin/qrlogin/assets"
	"github.com/qrlogin/qrlogin/internal/identity"
)

// Tagline says in one sentence what the app does.
const Tagline = "Sign this computer in to your Matrix account by scanning a QR code with your phone."

// New returns the start screen.
func New() fyne.CanvasObject {
	icon := canvas.NewImageFromResource(assets.AppIcon())
	icon.FillMode = canvas.ImageFillContain
	icon.SetMinSize(fyne.NewSquareSize(128))

	title := widget.NewLabelWithStyle(identity.DisplayName, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameHeadingText

	tagline := widget.NewLabelWithStyle(Tagline, fyne.TextAlignCenter, fyne.TextStyle{})
	tagline.Wrapping = fyne.TextWrapWord

	version := widget.NewLabelWithStyle("Version "+identity.Version, fyne.TextAlignCenter, fyne.TextStyle{})
	version.Importance = widget.LowImportance

	return container.NewPadded(container.NewVBox(
		layout.NewSpacer(),
		container.NewCenter(icon),
		title,
		tagline,
		version,
		layout.NewSpacer(),
	))
}
