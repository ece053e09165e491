package harness

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The qrlogin binary is built once per test run with the plain flags that
// `make build` uses, so it reuses the warm build cache (-race or -trimpath
// would each cost a cold cgo build of go-gl, minutes on 2 cores).
var built struct {
	once sync.Once
	path string
	err  error
	log  []byte
}

// qrloginBinary returns the path of a freshly built qrlogin executable.
func qrloginBinary(t testing.TB) string {
	t.Helper()
	built.once.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			built.err = err
			return
		}
		dir, err := os.MkdirTemp("", "qrlogin-harness-")
		if err != nil {
			built.err = err
			return
		}
		built.path = filepath.Join(dir, "qrlogin")
		cmd := exec.Command("go", "build", "-ldflags=-s -w", "-o", built.path, ".")
		cmd.Dir = root
		built.log, built.err = cmd.CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("go build: %v\n%s", built.err, built.log)
	}
	return built.path
}

// moduleRoot is the directory holding go.mod (and main.go).
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

// runBinary runs qrlogin with args and env additions, returning exit code and streams.
func runBinary(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(qrloginBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if exitErr, ok := err.(*exec.ExitError); ok {
		return exitErr.ExitCode(), out.String(), errOut.String()
	}
	if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return 0, out.String(), errOut.String()
}
