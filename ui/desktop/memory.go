package desktop

import (
	"context"
	"runtime/debug"
	"sync"
	"time"

	"fyne.io/fyne/v2"

	"github.com/qrlogin/qrlogin/app/config"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/ui"
)

// Building the first screens allocates ~18 MiB that is garbage a moment later
// (font faces parsed for bold, monospace and heading text, text measured for
// the start, connecting and QR screens). The Go heap grows to twice its live
// size before collecting, and the freed pages return to the system only
// slowly, so a window idling on the QR code keeps more resident than it uses
// (docs/build-notes.md "Benchmarks"). Once the first QR code (or, without a
// sign-in, the start screen) has settled, one forced collection returns that
// memory; it costs a few milliseconds, once per process.
const settleBeforeRelease = time.Second

var releaseOnce sync.Once

func releaseStartupGarbage() {
	releaseOnce.Do(func() { time.AfterFunc(settleBeforeRelease, debug.FreeOSMemory) })
}

// releaseAfterStart schedules the release once the app is running, for a
// window that stays on the start screen.
func releaseAfterStart(a fyne.App) {
	a.Lifecycle().SetOnStarted(func() {
		time.AfterFunc(2*time.Second, releaseStartupGarbage)
	})
}

// withStartupRelease schedules the release when the first QR code shows.
func withStartupRelease(svc ui.Services) ui.Services {
	start := svc.StartSignIn
	svc.StartSignIn = func(ctx context.Context, homeserver string, s config.Settings, emit func(login.Event)) ui.Controller {
		return start(ctx, homeserver, s, func(ev login.Event) {
			emit(ev)
			if _, qr := ev.(login.QRReady); qr {
				releaseStartupGarbage()
			}
		})
	}
	return svc
}
