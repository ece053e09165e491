package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// warningBar is a quiet line at the bottom of the window for login
// Warnings: things worth knowing that do not stop the sign-in. It is
// hidden while there are none.
type warningBar struct {
	label *widget.Label
	box   *fyne.Container
}

func newWarningBar() *warningBar {
	w := &warningBar{label: widget.NewLabel("")}
	w.label.Wrapping = fyne.TextWrapWord
	w.box = container.NewBorder(widget.NewSeparator(), nil, container.NewVBox(widget.NewIcon(theme.WarningIcon())), nil, w.label)
	w.box.Hide()
	return w
}

func (w *warningBar) object() fyne.CanvasObject { return w.box }

// add shows one more warning under the ones already shown.
func (w *warningBar) add(message string) {
	if w.label.Text != "" {
		message = w.label.Text + "\n" + message
	}
	w.label.SetText(message)
	w.box.Show()
}

func (w *warningBar) clear() {
	w.label.SetText("")
	w.box.Hide()
}
