package harness

import (
	"strings"
	"testing"

	"github.com/qrlogin/qrlogin/internal/identity"
)

// The built binary answers the packaging check's `qrlogin --version` and the
// usage contract of README.md "Signing in from the terminal", end to end
// through main.go.
func TestBinaryCommandLine(t *testing.T) {
	if code, out, _ := runBinary(t, nil, "--version"); code != 0 || out != identity.BinaryName+" "+identity.Version+"\n" {
		t.Errorf("--version: exit %d, stdout %q", code, out)
	}
	if code, out, _ := runBinary(t, nil, "--help"); code != 0 || !strings.Contains(out, "Usage:") {
		t.Errorf("--help: exit %d, stdout %q", code, out)
	}
	code, out, errOut := runBinary(t, nil, "frobnicate")
	if code != 2 || out != "" || !strings.Contains(errOut, `unknown command "frobnicate"`) || !strings.Contains(errOut, "Usage:") {
		t.Errorf("unknown command: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// Without a display the GUI path must explain itself, not panic in GLFW.
func TestBinaryWithoutDisplayExplains(t *testing.T) {
	code, _, errOut := runBinary(t, []string{"DISPLAY=", "WAYLAND_DISPLAY="})
	if code != 1 || !strings.Contains(errOut, "no display") || strings.Contains(errOut, "panic") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}
