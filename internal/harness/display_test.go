package harness

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDisplayKeepsStateBetweenPrograms: the test display must not reset
// when its last client leaves. A reset wipes the server's state, and a
// program that connects while it runs may fail to open the display (GLFW:
// "X11: Failed to open display"); the GUI tests and benchmarks start one
// program after another and would meet that in every gap. A name set on the
// root window by one xdotool must still be there for the next.
// (Another program connected meanwhile would hide a reset: this test can
// pass wrongly, never fail wrongly.)
func TestDisplayKeepsStateBetweenPrograms(t *testing.T) {
	RequireDisplay(t)
	if _, err := exec.LookPath("xdotool"); err != nil {
		t.Fatalf("xdotool missing (make deps installs it): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "xdotool", "search", "--maxdepth", "0", "--name", "").Output()
	root := strings.TrimSpace(string(out))
	if err != nil || root == "" {
		t.Fatalf("no root window from xdotool search --maxdepth 0: %v", err)
	}
	const probe = "qrlogin-reset-probe"
	if err := xdotool(ctx, "set_window", "--name", probe, root); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = xdotool(ctx, "set_window", "--name", "", root) }()
	time.Sleep(300 * time.Millisecond) // a reset would begin as that client left
	if name, err := windowTitle(ctx, root); err != nil || name != probe {
		t.Fatalf("the root window's name is %q (%v) after its setter left, want %q: the display resets between programs (Xvfb needs -noreset)", name, err, probe)
	}
}
