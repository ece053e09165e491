package harness

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/identity"
)

// ScreenshotDirEnv, when set, makes the window test keep its screenshot
// there (`make screenshots`).
const ScreenshotDirEnv = "QRLOGIN_SCREENSHOT_DIR"

// TestWindowOpensAndDraws starts the real binary on the X display, finds its
// window by title with xdotool, grabs it with ImageMagick's import and checks
// that the picture is a drawn screen, not a blank or black rectangle.
func TestWindowOpensAndDraws(t *testing.T) {
	RequireDisplay(t)
	for _, tool := range []string{"xdotool", "/usr/bin/import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s missing (make deps installs it): %v", tool, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	var logs bytes.Buffer
	app := exec.Command(qrloginBinary(t))
	app.Env = append(os.Environ(), "XDG_CONFIG_HOME="+t.TempDir())
	app.Stdout, app.Stderr = &logs, &logs
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{}) // closed when the app has exited
	var exitErr error
	go func() { exitErr = app.Wait(); close(exited) }()
	t.Cleanup(func() { stopApp(t, app, exited) })

	windowID, err := findWindow(ctx, identity.DisplayName, exited)
	if err != nil && isClosed(exited) {
		err = fmt.Errorf("%w (exit: %v)", err, exitErr)
	}
	if err != nil {
		t.Fatalf("%v\napp output:\n%s", err, logs.String())
	}

	// The first frames may still be empty: retry until the screen is drawn.
	var shot image.Image
	var problem error
	for ctx.Err() == nil {
		shot, problem = screenshot(ctx, windowID)
		if problem == nil {
			problem = checkDrawn(shot)
		}
		if problem == nil {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if problem != nil {
		t.Fatalf("window %s never looked drawn: %v\napp output:\n%s", windowID, problem, logs.String())
	}
	if dir := os.Getenv(ScreenshotDirEnv); dir != "" {
		saveScreenshot(t, shot, filepath.Join(dir, "start-screen.png"))
	}
}

// findWindow polls xdotool until a window titled exactly name appears.
func findWindow(ctx context.Context, name string, exited <-chan struct{}) (string, error) {
	for {
		out, _ := exec.CommandContext(ctx, "xdotool", "search", "--name", "^"+name+"$").Output()
		if ids := strings.Fields(string(out)); len(ids) > 0 {
			return ids[len(ids)-1], nil
		}
		select {
		case <-exited:
			return "", fmt.Errorf("app exited before its window appeared")
		case <-ctx.Done():
			return "", fmt.Errorf("no window titled %q: %w", name, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// screenshot grabs one X window as an image. /usr/bin/import is named in
// full: ImageMagick's other binaries may be shadowed on PATH.
func screenshot(ctx context.Context, windowID string) (image.Image, error) {
	out, err := exec.CommandContext(ctx, "/usr/bin/import", "-window", windowID, "png:-").Output()
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	return png.Decode(bytes.NewReader(out))
}

// checkDrawn rejects pictures that are too small, have few colours or are
// nearly one colour. (It does not look for particular widgets: the screens
// change; ui's own tests check those on Fyne's test driver.)
func checkDrawn(img image.Image) error {
	b := img.Bounds()
	if b.Dx() < 200 || b.Dy() < 200 {
		return fmt.Errorf("window is only %dx%d", b.Dx(), b.Dy())
	}
	counts := map[[3]uint32]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			counts[[3]uint32{r >> 8, g >> 8, bl >> 8}]++
		}
	}
	most := 0
	for _, n := range counts {
		most = max(most, n)
	}
	total := b.Dx() * b.Dy()
	switch {
	case len(counts) < 16:
		return fmt.Errorf("only %d colours", len(counts))
	case float64(most) > 0.97*float64(total):
		return fmt.Errorf("%.1f%% of the window is one colour", 100*float64(most)/float64(total))
	}
	return nil
}

func saveScreenshot(t *testing.T, img image.Image, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot saved to %s", path)
}

// stopApp asks the app to quit and kills it if it does not within 5 s.
func stopApp(t *testing.T, app *exec.Cmd, exited <-chan struct{}) {
	_ = app.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		_ = app.Process.Kill()
		<-exited
		t.Log("app ignored SIGTERM for 5 s; killed")
	}
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
