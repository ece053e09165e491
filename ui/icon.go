package ui

import (
	"fyne.io/fyne/v2"

	"github.com/qrlogin/qrlogin/assets"
	"github.com/qrlogin/qrlogin/internal/identity"
)

// AppIcon is the app icon as a Fyne resource; Fyne rasterises the SVG for
// the window icon and for in-app use at any size.
func AppIcon() fyne.Resource {
	return fyne.NewStaticResource(identity.AppID+".svg", assets.IconSVG)
}
