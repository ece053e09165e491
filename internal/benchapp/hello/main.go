// Command hello is the yardstick for qrlogin's GUI benchmarks
// (docs/build-notes.md "Benchmarks"): the smallest useful Fyne window, a
// label and a button, built with the same Fyne version and the same plain
// build flags as qrlogin, so that internal/harness can report qrlogin's
// start-up time, memory and idle CPU as ratios against it, measured in the
// same run on the same X server.
package main

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// Title is what the benchmarks search for with xdotool.
const Title = "Hello benchmark"

func main() {
	a := app.NewWithID("io.github.qrlogin.QRLogin.hello")
	w := a.NewWindow(Title)
	label := widget.NewLabel("Hello, world")
	w.SetContent(container.NewVBox(label, widget.NewButton("Press me", func() { label.SetText("Pressed") })))
	// qrlogin's window size (ui/desktop), so that the benchmarks compare
	// the apps, not how many pixels each window has to draw.
	w.Resize(fyne.NewSize(900, 600))
	w.ShowAndRun()
}
