package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	zxingqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/qrlogin/qrlogin/app/config"
	"github.com/qrlogin/qrlogin/internal/identity"
)

// This file drives a real GUI process on the test session's X server the
// way a person would: find the window by title, look at it (ImageMagick's
// import), read the QR code off the pixels with decoders that share no
// code with the app (zbarimg, gozxing), and type on the keyboard (xdotool).
// The end-to-end test, `make screenshots` and the GUI benchmarks use it.

// requireGUITools stops the test unless the display and the X tools are there.
func requireGUITools(tb testing.TB) {
	tb.Helper()
	RequireDisplay(tb)
	for _, tool := range []string{"xdotool", "/usr/bin/import", "zbarimg"} {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Fatalf("%s missing (make deps installs it): %v", tool, err)
		}
	}
}

// guiProcess is a GUI program started on the test display.
type guiProcess struct {
	cmd     *exec.Cmd
	started time.Time
	exited  chan struct{} // closed when the process has exited
	exitErr error
	logs    *syncBuffer
}

// startGUI starts path with extra environment entries; the process is
// stopped when the test ends.
func startGUI(tb testing.TB, path string, env []string, args ...string) *guiProcess {
	tb.Helper()
	p := &guiProcess{logs: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(path, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() { p.exitErr = p.cmd.Wait(); close(p.exited) }()
	tb.Cleanup(func() { p.stop(tb) })
	return p
}

// stop asks the process to quit and kills it if it does not within 5 s.
func (p *guiProcess) stop(tb testing.TB) {
	if isClosed(p.exited) {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
		tb.Logf("%s ignored SIGTERM for 5 s; killed", filepath.Base(p.cmd.Path))
	}
}

// window waits for the process's window titled exactly title to be mapped.
func (p *guiProcess) window(ctx context.Context, title string) (string, error) {
	id, err := findVisibleWindow(ctx, title, p.exited, 200*time.Millisecond)
	if err != nil && isClosed(p.exited) {
		err = fmt.Errorf("%w (exit: %v)", err, p.exitErr)
	}
	if err != nil {
		return "", fmt.Errorf("%w\noutput:\n%s", err, p.logs.String())
	}
	return id, nil
}

// findVisibleWindow polls xdotool until a mapped window titled exactly
// name (a regular expression) appears. Only mapped windows count: import
// on a window that exists but is not mapped yet can hang (seen here).
func findVisibleWindow(ctx context.Context, name string, exited <-chan struct{}, interval time.Duration) (string, error) {
	for {
		probe, cancel := context.WithTimeout(ctx, toolTimeout)
		out, _ := exec.CommandContext(probe, "xdotool", "search", "--onlyvisible", "--name", "^"+name+"$").Output()
		cancel()
		if ids := strings.Fields(string(out)); len(ids) > 0 {
			return ids[len(ids)-1], nil
		}
		select {
		case <-exited:
			return "", fmt.Errorf("the program exited before its window %q appeared", name)
		case <-ctx.Done():
			return "", fmt.Errorf("no window titled %q: %w", name, ctx.Err())
		case <-time.After(interval):
		}
	}
}

// grab is screenshot bounded by toolTimeout, so one stuck import cannot
// stall a test.
func grab(ctx context.Context, windowID string) (image.Image, error) {
	ctx, cancel := context.WithTimeout(ctx, toolTimeout)
	defer cancel()
	return screenshot(ctx, windowID)
}

// settingsEnv gives the app a fresh config folder whose settings name
// homeserver as the last one used, so the start screen has it filled in
// and Enter starts the sign-in.
func settingsEnv(tb testing.TB, homeserver string, theme string) []string {
	tb.Helper()
	home := tb.TempDir()
	dir := filepath.Join(home, identity.AppID)
	s := config.Settings{LastHomeserver: homeserver}.Defaults()
	if err := config.SaveTo(filepath.Join(dir, "settings.json"), s); err != nil {
		tb.Fatal(err)
	}
	env := []string{"XDG_CONFIG_HOME=" + home}
	if theme != "" {
		env = append(env, "FYNE_THEME="+theme)
	}
	return env
}

// pressKeys focuses the window and sends key presses (xdotool key names
// such as Return or Tab) through the X server, as a keyboard would.
func pressKeys(ctx context.Context, windowID string, keys ...string) error {
	if err := focusWindow(ctx, windowID); err != nil {
		return err
	}
	args := append([]string{"key", "--delay", "60"}, keys...)
	return xdotool(ctx, args...)
}

// typeText focuses the window and types text.
func typeText(ctx context.Context, windowID, text string) error {
	if err := focusWindow(ctx, windowID); err != nil {
		return err
	}
	return xdotool(ctx, "type", "--delay", "80", text)
}

// focusWindow gives the window the keyboard focus. Xvfb runs no window
// manager, so the focus is set directly (windowactivate needs one);
// events sent with --window would be synthetic, which GLFW ignores.
func focusWindow(ctx context.Context, windowID string) error {
	return xdotool(ctx, "windowfocus", "--sync", windowID)
}

// toolTimeout bounds one run of an X tool: windowfocus --sync, for one,
// waits forever for a window that cannot take the focus.
const toolTimeout = 10 * time.Second

func xdotool(ctx context.Context, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, toolTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "xdotool", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("xdotool %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// windowTitle reads a window's title.
func windowTitle(ctx context.Context, windowID string) (string, error) {
	out, err := exec.CommandContext(ctx, "xdotool", "getwindowname", windowID).Output()
	return strings.TrimSpace(string(out)), err
}

// errNoQR means the picture holds no readable QR code (yet).
var errNoQR = errors.New("no QR code in the screenshot")

// readQR decodes the QR code in a window's screenshot file with zbarimg,
// exact bytes (-Sbinary; docs/build-notes.md "QR decoders"), and checks that
// gozxing, a second independent decoder, reads the same bytes when it finds
// the code: on a whole window (text beside the code) gozxing misses some
// symbols that zbar reads, and a code stays on screen until it expires, so a
// miss would stall the caller for a minute.
func readQR(ctx context.Context, path string) ([]byte, image.Image, error) {
	ctx, cancel := context.WithTimeout(ctx, toolTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "zbarimg", "--nodbus", "--raw", "-q", "-Sdisable", "-Sqrcode.enable", "-Sbinary", path).Output()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) && exitErr.ExitCode() == 4 { // zbarimg: no symbol found
		return nil, nil, errNoQR
	}
	if err != nil {
		return nil, nil, fmt.Errorf("zbarimg: %w", err)
	}
	if len(out) == 0 {
		return nil, nil, errNoQR
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	shot, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, nil, err
	}
	second, err := readQRWithGozxing(shot)
	if err != nil {
		gozxingMisses.Add(1)
		return out, shot, nil
	}
	if !bytes.Equal(out, second) {
		return nil, nil, fmt.Errorf("zbarimg and gozxing disagree: %x vs %x", out, second)
	}
	return out, shot, nil
}

// gozxingMisses counts codes zbarimg read and gozxing did not.
var gozxingMisses atomic.Int64

// screenshotFile grabs one X window into a PNG file.
func screenshotFile(ctx context.Context, windowID, path string) error {
	ctx, cancel := context.WithTimeout(ctx, toolTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/usr/bin/import", "-window", windowID, "png:"+path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("import: %v: %s", err, out)
	}
	return nil
}

// readQRWithGozxing returns the byte segments of the QR code: GetText is
// charset-guessed and does not round-trip bytes ≥ 0x80 (docs/build-notes.md
// "QR decoders").
func readQRWithGozxing(img image.Image) ([]byte, error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return nil, err
	}
	res, err := zxingqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		return nil, err
	}
	segments, ok := res.GetResultMetadata()[gozxing.ResultMetadataType_BYTE_SEGMENTS].([][]byte)
	if !ok {
		return nil, errors.New("no byte segments")
	}
	return bytes.Join(segments, nil), nil
}

// waitForQR polls screenshots until one holds a readable QR code. It
// returns the payload, the screenshot, and when that screenshot was
// taken (the benchmarks time start-up to that moment, not to the end of
// decoding it).
func waitForQR(ctx context.Context, windowID string, interval time.Duration) ([]byte, image.Image, time.Time, error) {
	dir, err := os.MkdirTemp("", "qrlogin-shots-")
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "window.png")
	var last error
	for {
		err := screenshotFile(ctx, windowID, path)
		taken := time.Now()
		if err == nil {
			var payload []byte
			var shot image.Image
			if payload, shot, err = readQR(ctx, path); err == nil {
				return payload, shot, taken, nil
			}
		}
		last = err
		select {
		case <-ctx.Done():
			return nil, nil, time.Time{}, fmt.Errorf("no QR code in the window: %v (%w)", last, ctx.Err())
		case <-time.After(interval):
		}
	}
}

// waitUntil polls check until it returns nil or ctx ends.
func waitUntil(ctx context.Context, interval time.Duration, check func() error) error {
	for {
		err := check()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%v (%w)", err, ctx.Err())
		case <-time.After(interval):
		}
	}
}

// processRSS is the resident set size of a process (VmRSS), in bytes.
func processRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			fields := strings.Fields(rest) // "123456 kB"
			if len(fields) != 2 || fields[1] != "kB" {
				return 0, fmt.Errorf("VmRSS line %q", line)
			}
			kib, err := strconv.ParseInt(fields[0], 10, 64)
			return kib * 1024, err
		}
	}
	return 0, errors.New("no VmRSS in /proc/pid/status")
}

// clockTicks is USER_HZ, the unit of /proc/pid/stat's times; 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// processCPU is the CPU time a process has used (utime + stime).
func processCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// count fields from the last ')'.
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return 0, errors.New("malformed /proc/pid/stat")
	}
	fields := strings.Fields(string(data[end+1:]))
	// fields[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(fields) < 13 {
		return 0, errors.New("short /proc/pid/stat")
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
