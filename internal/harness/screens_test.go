package harness

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/internal/identity"
	"github.com/qrlogin/qrlogin/internal/phone"
)

// TestScreensOfTheRealWindow walks the real binary through every sign-in
// screen against the development homeserver: start, QR code, check code,
// approve (the phone leaves the consent page to the test), done; then,
// in a second window, a mistyped check code and the error screen it ends
// in. With QRLOGIN_SCREENSHOT_DIR set (`make screenshots`) it does so in
// the light and the dark theme and keeps <screen>-<theme>.png there;
// otherwise it runs once in the default theme as an end-to-end test of
// the approve and mismatch paths.
func TestScreensOfTheRealWindow(t *testing.T) {
	requireGUITools(t)
	RequireSecretService(t)
	themes := []string{""}
	if os.Getenv(ScreenshotDirEnv) != "" {
		themes = []string{"light", "dark"}
	}
	for _, theme := range themes {
		name := theme
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			srv := startDevServer(t)
			shots := newShotRecorder(t, "")
			shots.suffix = theme
			t.Run("approve", func(t *testing.T) { walkApprovePath(t, ctx, srv, theme, shots) })
			t.Run("mismatch", func(t *testing.T) { walkMismatchPath(t, ctx, srv, theme, shots) })
		})
	}
}

// walkApprovePath: start → QR → check code → approve → done.
func walkApprovePath(t *testing.T, ctx context.Context, srv *devserver.Server, theme string, shots *shotRecorder) {
	forgetAccountAfter(t, srv)
	app := startGUI(t, qrloginBinary(t), settingsEnv(t, srv.URL(), theme))
	win, err := app.window(ctx, identity.DisplayName)
	if err != nil {
		t.Fatal(err)
	}
	if err := waitDrawn(ctx, win); err != nil {
		t.Fatalf("%v\napp output:\n%s", err, app.logs.String())
	}
	settle()
	shots.take(ctx, win, "start")

	payload := showQR(t, ctx, app, win)
	shots.take(ctx, win, "qr")

	codes := make(chan string, 1)
	phoneDone := make(chan error, 1)
	go func() {
		_, err := phone.Run(ctx, phone.Config{
			Homeserver:  srv,
			Script:      phone.Script{SilentAt: phone.StepConsent}, // the test approves
			OnCheckCode: func(code string) { codes <- code },
		}, payload)
		phoneDone <- err
	}()
	code := awaitCheckCode(t, ctx, app, codes, phoneDone)
	typeCheckCode(t, ctx, app, win, code, shots)

	userCode, err := srv.WaitForUserCode(ctx)
	if err != nil {
		t.Fatalf("no device authorization: %v\napp output:\n%s", err, app.logs.String())
	}
	settle()
	shots.take(ctx, win, "approve")
	if err := srv.Approve(userCode); err != nil {
		t.Fatal(err)
	}
	if err := <-phoneDone; err != nil {
		t.Fatalf("phone: %v\napp output:\n%s", err, app.logs.String())
	}
	if _, err := findVisibleWindow(ctx, identity.DisplayName+".*Signed in", app.exited, 200*time.Millisecond); err != nil {
		t.Fatalf("the window never said it was signed in: %v\napp output:\n%s", err, app.logs.String())
	}
	settle()
	shots.take(ctx, win, "done")
}

// walkMismatchPath: a wrong check code ends the attempt on the error screen.
func walkMismatchPath(t *testing.T, ctx context.Context, srv *devserver.Server, theme string, shots *shotRecorder) {
	app := startGUI(t, qrloginBinary(t), settingsEnv(t, srv.URL(), theme))
	win, err := app.window(ctx, identity.DisplayName)
	if err != nil {
		t.Fatal(err)
	}
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
	code := awaitCheckCode(t, ctx, app, codes, phoneDone)
	typeCheckCode(t, ctx, app, win, wrongCheckCode(code), nil)

	// The phone learns that the attempt ended (the desktop deletes the
	// session or sends a failure): it must not succeed.
	select {
	case err := <-phoneDone:
		if err == nil {
			t.Fatal("the phone finished a sign-in whose check code was mistyped")
		}
	case <-ctx.Done():
		t.Fatalf("the phone never heard that the attempt ended\napp output:\n%s", app.logs.String())
	}
	settle()
	shot := shots.take(ctx, win, "error")
	if shot == nil {
		return
	}
	if title, _ := windowTitle(ctx, win); title != identity.DisplayName {
		t.Errorf("after a mismatch the title is %q", title)
	}
}

func awaitCheckCode(t *testing.T, ctx context.Context, app *guiProcess, codes <-chan string, phoneDone <-chan error) string {
	t.Helper()
	select {
	case code := <-codes:
		return code
	case err := <-phoneDone:
		t.Fatalf("the phone stopped before showing a check code: %v\napp output:\n%s", err, app.logs.String())
	case <-ctx.Done():
		t.Fatalf("no check code: %v", ctx.Err())
	}
	return ""
}

// wrongCheckCode is a two-digit code that differs from code.
func wrongCheckCode(code string) string {
	var n int
	_, _ = fmt.Sscanf(code, "%d", &n)
	return fmt.Sprintf("%02d", (n+1)%100)
}

// waitDrawn waits until the window shows a drawn screen.
func waitDrawn(ctx context.Context, win string) error {
	return waitUntil(ctx, 200*time.Millisecond, func() error {
		shot, err := grab(ctx, win)
		if err != nil {
			return err
		}
		return checkDrawn(shot)
	})
}

// settle gives a new screen time to finish drawing (and its field the
// focus) before it is photographed; nothing is asserted from timing.
func settle() { time.Sleep(time.Second) }
