package ui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// FormatRemaining shows time left as minutes and seconds ("4:05"),
// rounding up so the display reaches 0:00 only when the time is up.
func FormatRemaining(d time.Duration) string {
	if d <= 0 {
		return "0:00"
	}
	secs := int64((d + time.Second - 1) / time.Second)
	return fmt.Sprintf("%d:%02d", secs/60, secs%60)
}

// countdown is a label that says how long is left until a deadline,
// updated once a second by one ticker and by nothing else, so an idle
// screen costs one small redraw a second (issue 6, part 4).
type countdown struct {
	label    *widget.Label
	format   func(left string) string
	deadline time.Time
	now      func() time.Time
	stopTick func()
}

func (a *App) newCountdown(deadline time.Time, format func(left string) string) *countdown {
	c := &countdown{label: widget.NewLabel(""), format: format, deadline: deadline, now: func() time.Time { return a.now() }}
	c.label.Wrapping = fyne.TextWrapWord
	c.update()
	ticks, stop := a.newTicker(time.Second)
	done := make(chan struct{})
	c.stopTick = func() {
		stop()
		select {
		case <-done:
		default:
			close(done)
		}
	}
	go func() {
		for {
			select {
			case <-done:
				return
			case <-ticks:
				fyne.Do(func() {
					select {
					case <-done: // the screen went away meanwhile
					default:
						c.update()
					}
				})
			}
		}
	}()
	return c
}

// reset points the countdown at a new deadline (a fresh QR code).
func (c *countdown) reset(deadline time.Time) {
	c.deadline = deadline
	c.update()
}

func (c *countdown) update() {
	text := c.format(FormatRemaining(c.deadline.Sub(c.now())))
	if text != c.label.Text {
		c.label.SetText(text)
	}
}

func (c *countdown) stop() { c.stopTick() }
