package harness

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/app/accounts"
	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/internal/devserver/devservertest"
	"github.com/qrlogin/qrlogin/internal/identity"
	"github.com/qrlogin/qrlogin/internal/phone"
)

// TestEndToEndSignInThroughTheWindow is the end-to-end test of the window:
// the real binary, on the test session's X server, signs in to the
// development homeserver running in this test process. The test only does
// what a person does: it reads the QR code off the window's pixels (zbarimg
// and gozxing, decoders independent of the app's encoder), lets the scripted
// phone scan it, types the phone's check code on the keyboard, has the phone
// approve, and waits for the window's title to say "Signed in".
func TestEndToEndSignInThroughTheWindow(t *testing.T) {
	requireGUITools(t)
	RequireSecretService(t) // the app stores the account in the keyring
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	srv := startDevServer(t)
	forgetAccountAfter(t, srv)

	app := startGUI(t, qrloginBinary(t), settingsEnv(t, srv.URL(), ""))
	win, err := app.window(ctx, identity.DisplayName)
	if err != nil {
		t.Fatal(err)
	}
	shots := newShotRecorder(t, "e2e")

	// The start screen has the server filled in; Enter signs in.
	payload := showQR(t, ctx, app, win)

	codes := make(chan string, 1)
	phoneDone := make(chan error, 1)
	go func() {
		_, err := phone.Run(ctx, phone.Config{
			Homeserver:  srv,
			OnCheckCode: func(code string) { codes <- code },
		}, payload)
		phoneDone <- err
	}()

	var code string
	select {
	case code = <-codes:
	case err := <-phoneDone:
		t.Fatalf("the phone stopped before showing a check code: %v\napp output:\n%s", err, app.logs.String())
	case <-ctx.Done():
		t.Fatalf("no check code: %v", ctx.Err())
	}
	typeCheckCode(t, ctx, app, win, code, shots)

	select {
	case err := <-phoneDone:
		if err != nil {
			t.Fatalf("phone: %v\napp output:\n%s", err, app.logs.String())
		}
	case <-ctx.Done():
		t.Fatalf("the phone did not finish: %v\napp output:\n%s", ctx.Err(), app.logs.String())
	}

	// The visible end: the title changes once the Done screen shows.
	doneWin, err := findVisibleWindow(ctx, identity.DisplayName+".*Signed in", app.exited, 200*time.Millisecond)
	if err != nil {
		t.Fatalf("the window never said it was signed in: %v\napp output:\n%s", err, app.logs.String())
	}
	if doneWin != win {
		t.Errorf("the signed-in title is on window %s, the app's window is %s", doneWin, win)
	}
	shots.take(ctx, win, "done")

	// And the account is really stored.
	store, err := accounts.Open()
	if err != nil {
		t.Fatal(err)
	}
	list, err := store.List()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(list, func(m accounts.Meta) bool { return m.UserID == srv.UserID() }) {
		t.Errorf("the keyring holds %+v, not %s", list, srv.UserID())
	}
}

// forgetAccountAfter removes the dev server's account from the session's
// keyring when the test ends, so the next test's start screen (and its
// screenshot) does not list it.
func forgetAccountAfter(tb testing.TB, srv *devserver.Server) {
	tb.Cleanup(func() {
		store, err := accounts.Open()
		if err != nil {
			return
		}
		if err := store.Delete(srv.UserID()); err != nil && !errors.Is(err, accounts.ErrNotFound) {
			tb.Logf("removing the test account: %v", err)
		}
	})
}

// startDevServer runs the development homeserver on a free loopback port
// until the test ends.
func startDevServer(tb testing.TB) *devserver.Server {
	tb.Helper()
	return devservertest.Start(tb, devserver.Config{PollInterval: time.Second})
}

// showQR presses Enter on the start screen (the server is filled in) and
// returns the payload read off the window once the QR code shows.
func showQR(tb testing.TB, ctx context.Context, app *guiProcess, win string) []byte {
	tb.Helper()
	// The window may map before it takes key presses: press again while no
	// code shows (a second Enter on the "connecting" screen does nothing).
	var payload []byte
	err := waitUntil(ctx, 3*time.Second, func() error {
		if err := pressKeys(ctx, win, "Return"); err != nil {
			return err
		}
		qrCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		p, _, _, err := waitForQR(qrCtx, win, 300*time.Millisecond)
		payload = p
		return err
	})
	if err != nil {
		tb.Fatalf("%v\napp output:\n%s", err, app.logs.String())
	}
	return payload
}

// typeCheckCode waits for the check-code screen (the QR code is gone) and
// types the code followed by Enter.
func typeCheckCode(tb testing.TB, ctx context.Context, app *guiProcess, win, code string, shots *shotRecorder) {
	tb.Helper()
	dir := tb.TempDir()
	path := filepath.Join(dir, "window.png")
	err := waitUntil(ctx, 300*time.Millisecond, func() error {
		if err := screenshotFile(ctx, win, path); err != nil {
			return err
		}
		if _, _, err := readQR(ctx, path); !errors.Is(err, errNoQR) {
			return fmt.Errorf("the QR code still shows (%v)", err)
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("the check-code screen never came: %v\napp output:\n%s", err, app.logs.String())
	}
	time.Sleep(500 * time.Millisecond) // let the screen settle and focus its field
	if err := typeText(ctx, win, code); err != nil {
		tb.Fatal(err)
	}
	if shots != nil {
		time.Sleep(300 * time.Millisecond)
		shots.take(ctx, win, "check-code")
	}
	if err := pressKeys(ctx, win, "Return"); err != nil {
		tb.Fatal(err)
	}
}

// shotRecorder keeps named screenshots when QRLOGIN_SCREENSHOT_DIR is set
// (`make screenshots`), and always in the test's temp dir for a failure.
type shotRecorder struct {
	tb     testing.TB
	dir    string
	prefix string // file names are [prefix-]name[-suffix].png
	suffix string
}

func newShotRecorder(tb testing.TB, prefix string) *shotRecorder {
	return &shotRecorder{tb: tb, dir: os.Getenv(ScreenshotDirEnv), prefix: prefix}
}

// take photographs the window, keeping the picture in the directory if set.
func (s *shotRecorder) take(ctx context.Context, win, name string) image.Image {
	s.tb.Helper()
	shot, err := grab(ctx, win)
	if err != nil {
		s.tb.Errorf("screenshot %s: %v", name, err)
		return nil
	}
	if s.dir != "" {
		file := name
		if s.prefix != "" {
			file = s.prefix + "-" + file
		}
		if s.suffix != "" {
			file += "-" + s.suffix
		}
		file += ".png"
		saveScreenshot(s.tb.(*testing.T), shot, filepath.Join(s.dir, file))
	}
	return shot
}
