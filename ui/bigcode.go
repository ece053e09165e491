package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// bigCodeScale is how many times the body text size the approve screen's
// user code is drawn: people read it off the computer and type it on the
// phone, so it must be legible from arm's length (docs/design-notes.md
// "Legibility and layout").
const bigCodeScale = 3

// bigCode shows a short code large and monospaced, in the theme's
// foreground colour, so it reads on both themes and follows a theme change.
// It is not selectable: the Copy button beside it copies it.
type bigCode struct {
	widget.BaseWidget
	Text string
}

func newBigCode(text string) *bigCode {
	c := &bigCode{Text: text}
	c.ExtendBaseWidget(c)
	return c
}

// CreateRenderer implements fyne.Widget.
func (c *bigCode) CreateRenderer() fyne.WidgetRenderer {
	text := canvas.NewText(c.Text, nil)
	text.TextStyle = fyne.TextStyle{Monospace: true}
	r := &bigCodeRenderer{code: c, text: text}
	r.Refresh()
	return r
}

type bigCodeRenderer struct {
	code *bigCode
	text *canvas.Text
}

func (r *bigCodeRenderer) Layout(size fyne.Size) {
	pad := theme.CurrentForWidget(r.code).Size(theme.SizeNameInnerPadding)
	r.text.Move(fyne.NewPos(pad, pad))
	r.text.Resize(fyne.NewSize(size.Width-2*pad, size.Height-2*pad))
}

func (r *bigCodeRenderer) MinSize() fyne.Size {
	pad := theme.CurrentForWidget(r.code).Size(theme.SizeNameInnerPadding)
	return r.text.MinSize().Add(fyne.NewSize(2*pad, 2*pad))
}

func (r *bigCodeRenderer) Refresh() {
	th := theme.CurrentForWidget(r.code)
	v := fyne.CurrentApp().Settings().ThemeVariant()
	r.text.Text = r.code.Text
	r.text.Color = th.Color(theme.ColorNameForeground, v)
	r.text.TextSize = bigCodeScale * th.Size(theme.SizeNameText)
	r.text.Refresh()
}

func (r *bigCodeRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.text} }

func (r *bigCodeRenderer) Destroy() {}
