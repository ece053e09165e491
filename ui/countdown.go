package ui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// Every repaint of the window costs about 14 ms of CPU under Mesa's software
// renderer, so a countdown that ticks each second would keep an idle QR
// screen measurably busier than an empty window (docs/design-notes.md "Idle
// cost"). The countdown therefore says only as much as a person needs: whole
// minutes while minutes are left, five-second steps in the last minute,
// single seconds in the last ten. The label changes a few times a minute at
// most until the very end, and only when its words change.
const (
	countdownSecondsFrom = 10 * time.Second // single seconds at and below this
	countdownStepsFrom   = time.Minute      // five-second steps at and below this
	countdownStep        = 5 * time.Second
	// countdownMinDelay keeps a timer that fires a hair early (or a clock
	// that moves oddly) from spinning: the next look is never sooner.
	countdownMinDelay = 10 * time.Millisecond
)

// DescribeRemaining words the time left for people ("about 4 minutes",
// "45 seconds", "1 second") and says how long these words stay true: after
// next the words change (next is 0 once the time is up, when they never
// change again). The words never promise more time than is left, except
// that "about N minutes" rounds to the nearest minute.
//
// The words hold for d in a half-open range (low, high]; next is d - low.
func DescribeRemaining(d time.Duration) (words string, next time.Duration) {
	switch {
	case d <= 0:
		return "0 seconds", 0
	case d <= countdownSecondsFrom:
		secs := ceilDiv(d, time.Second)
		return plural(secs, "second"), d - time.Duration(secs-1)*time.Second
	case d <= countdownStepsFrom:
		steps := ceilDiv(d, countdownStep)
		low := time.Duration(steps-1) * countdownStep
		return plural(steps*int64(countdownStep/time.Second), "second"), d - low
	default:
		// Round to the nearest minute: (n-½, n+½] minutes says "about n",
		// but never below the last minute, where the seconds take over.
		minutes := ceilDiv(d-time.Minute/2, time.Minute)
		low := max(time.Duration(minutes)*time.Minute-time.Minute/2, countdownStepsFrom)
		return "about " + plural(minutes, "minute"), d - low
	}
}

// FormatRemaining is DescribeRemaining's words alone.
func FormatRemaining(d time.Duration) string {
	words, _ := DescribeRemaining(d)
	return words
}

func ceilDiv(d, unit time.Duration) int64 { return int64((d + unit - 1) / unit) }

func plural(n int64, unit string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, unit)
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// countdown is a label that says how long is left until a deadline. One
// timer at a time wakes it exactly when its words change (DescribeRemaining),
// never once a second, and it stops with its screen.
type countdown struct {
	label    *widget.Label
	format   func(left string) string
	deadline time.Time
	now      func() time.Time
	after    func(d time.Duration, f func()) (stop func())

	stopTimer func() // the pending timer's, or nil
	armed     int    // counts timers, so a late one from before is ignored
	stopped   bool
}

func (a *App) newCountdown(deadline time.Time, format func(left string) string) *countdown {
	c := &countdown{
		label:    widget.NewLabel(""),
		format:   format,
		deadline: deadline,
		now:      func() time.Time { return a.now() },
		after:    a.afterFunc,
	}
	c.label.Wrapping = fyne.TextWrapWord
	c.update()
	return c
}

// reset points the countdown at a new deadline (a fresh QR code).
func (c *countdown) reset(deadline time.Time) {
	c.deadline = deadline
	c.update()
}

// update sets the words (repainting only if they changed) and arms the
// one timer for the next change. It runs on the UI goroutine.
func (c *countdown) update() {
	if c.stopped {
		return
	}
	words, next := DescribeRemaining(c.deadline.Sub(c.now()))
	if text := c.format(words); text != c.label.Text {
		c.label.SetText(text)
	}
	c.cancelTimer()
	if next <= 0 {
		return // time is up: nothing more to say until a reset
	}
	c.armed++
	armed := c.armed
	c.stopTimer = c.after(max(next, countdownMinDelay), func() {
		fyne.Do(func() {
			// Only the timer armed last may move the label: an older one
			// may have fired just as it was replaced or stopped.
			if !c.stopped && armed == c.armed {
				c.stopTimer = nil
				c.update()
			}
		})
	})
}

func (c *countdown) stop() {
	c.stopped = true
	c.cancelTimer()
}

func (c *countdown) cancelTimer() {
	if c.stopTimer != nil {
		c.stopTimer()
		c.stopTimer = nil
	}
}
