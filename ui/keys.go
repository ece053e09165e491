package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// Fyne hands keys to the focused widget, and the stock Entry and Button
// swallow Escape (and Button ignores Enter), so the canvas-level handler
// never sees them. These two forward Escape to the screen, and the button
// also presses on Enter, so the keyboard works wherever the focus is.

// entry is a one-line text field that forwards Escape.
type entry struct {
	widget.Entry
	onEscape func()
}

func newEntry(onEscape func()) *entry {
	e := &entry{onEscape: onEscape}
	e.ExtendBaseWidget(e)
	return e
}

// TypedKey implements fyne.Focusable.
func (e *entry) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyEscape && e.onEscape != nil {
		e.onEscape()
		return
	}
	e.Entry.TypedKey(ev)
}

// button presses on Enter and Space and forwards Escape.
type button struct {
	widget.Button
	onEscape func()
}

func newButton(label string, importance widget.Importance, tapped func(), onEscape func()) *button {
	b := &button{onEscape: onEscape}
	b.Text = label
	b.Importance = importance
	b.OnTapped = tapped
	b.ExtendBaseWidget(b)
	return b
}

// TypedKey implements fyne.Focusable.
func (b *button) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyEscape:
		if b.onEscape != nil {
			b.onEscape()
		}
	case fyne.KeyReturn, fyne.KeyEnter:
		if !b.Disabled() && b.OnTapped != nil {
			b.OnTapped()
		}
	default:
		b.Button.TypedKey(ev)
	}
}
