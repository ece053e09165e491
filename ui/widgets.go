package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// heading is a screen's title.
func heading(text string) *widget.Label {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.SizeName = theme.SizeNameHeadingText
	l.Wrapping = fyne.TextWrapWord
	return l
}

// wrapped is a paragraph.
func wrapped(text string, importance widget.Importance) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	l.Importance = importance
	return l
}

// middle centres a screen's few lines vertically in the space above its
// buttons, rather than leaving them at the top of a mostly empty window
// (docs/design-notes.md "Legibility and layout"); the lines keep the full
// width, so wrapped text still wraps.
// Inside a vertical scroll it works too: the scroll stretches its content
// to its own height when the content needs less.
func middle(body fyne.CanvasObject) *fyne.Container {
	return container.NewVBox(layout.NewSpacer(), body, layout.NewSpacer())
}
