package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// Fyne hands keys to the focused widget, and every stock focusable widget
// swallows Escape (and Button ignores Enter), so the canvas-level handler
// never sees them; nor can a window-level shortcut catch a bare Escape
// (the GLFW driver makes shortcuts only of keys with Ctrl, Alt or Super).
// So each focusable widget the screens use is one of these, which forward
// Escape to the screen: the keyboard works wherever the focus is
// (docs/design-notes.md "Keyboard").
// The button also presses on Enter.

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

// link is a hyperlink that forwards Escape.
type link struct {
	widget.Hyperlink
	onEscape func()
}

func newLink(text string, tapped func(), onEscape func()) *link {
	l := &link{onEscape: onEscape}
	l.Text = text
	l.OnTapped = tapped
	l.ExtendBaseWidget(l)
	return l
}

// TypedKey implements fyne.Focusable.
func (l *link) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyEscape && l.onEscape != nil {
		l.onEscape()
		return
	}
	l.Hyperlink.TypedKey(ev)
}

// picker is a drop-down of options that forwards Escape. The settings use
// it rather than a RadioGroup: a RadioGroup's focusable items are Fyne's
// own, unexported, and cannot forward Escape.
type picker struct {
	widget.Select
	onEscape func()
}

func newPicker(options []string, onEscape func()) *picker {
	p := &picker{onEscape: onEscape}
	p.Options = options
	p.PlaceHolder = "(choose one)"
	p.ExtendBaseWidget(p)
	return p
}

// TypedKey implements fyne.Focusable.
func (p *picker) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyEscape && p.onEscape != nil {
		p.onEscape()
		return
	}
	p.Select.TypedKey(ev)
}
