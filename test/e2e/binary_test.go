package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/identity"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	binDir    string // removed by TestMain
	configDir string // one XDG_CONFIG_HOME for every run: it holds the keyring lock
)

func TestMain(m *testing.M) {
	var err error
	if binDir, err = os.MkdirTemp("", "qrlogin-e2e-"); err != nil {
		panic(err)
	}
	configDir = filepath.Join(binDir, "config")
	if err := shareKeyringLock(configDir); err != nil {
		panic(err)
	}
	// The sign-ins mostly wait (poll intervals, expiry): run more of them
	// at once than the default of one per core, unless -parallel was given.
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", "8")
	}
	code := m.Run()
	os.RemoveAll(binDir)
	os.Exit(code)
}

// shareKeyringLock makes the keyring lock file of config folder dir a link
// to the one in the caller's config folder. The lock serialises every
// writer of the keyring's account index (app/accounts); these tests run
// many qrlogin processes at once, and other packages' tests
// (internal/harness) write the same session keyring under the same app ID,
// so separate locks would let them lose each other's updates. The settings
// in dir stay private.
func shareKeyringLock(dir string) error {
	callers, err := os.UserConfigDir()
	if err != nil {
		return nil // nobody else can have a lock there either
	}
	shared := filepath.Join(callers, identity.AppID, "keyring.lock")
	if err := os.MkdirAll(filepath.Dir(shared), 0o700); err != nil {
		return err
	}
	ours := filepath.Join(dir, identity.AppID)
	if err := os.MkdirAll(ours, 0o700); err != nil {
		return err
	}
	return os.Symlink(shared, filepath.Join(ours, "keyring.lock"))
}

// qrloginBinary builds the real binary once per `go test` run, with plain
// flags (no -race, no -trimpath): any new flag set would rebuild Fyne's
// cgo driver from cold (docs/build-notes.md "Build times").
func qrloginBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(binDir, "qrlogin")
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-buildvcs=false", "-o", binPath, ".")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = err
			if len(out) > 0 {
				buildErr = &buildFailure{err: err, output: string(out)}
			}
		}
	})
	if buildErr != nil {
		t.Fatalf("building qrlogin: %v", buildErr)
	}
	return binPath
}

type buildFailure struct {
	err    error
	output string
}

func (b *buildFailure) Error() string { return b.err.Error() + "\n" + b.output }

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

// requireSession skips (or, in CI, fails) without a D-Bus session: the
// real keyring is part of what these tests check.
func requireSession(t testing.TB) {
	t.Helper()
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no D-Bus session (DBUS_SESSION_BUS_ADDRESS); run under scripts/with-test-session")
	}
	t.Skip("no D-Bus session with a Secret Service; run: scripts/with-test-session go test ./test/e2e/")
}

// privateConfigDir is a config folder for one test's sign-ins: each login
// saves settings there (its last homeserver), which must not leak into
// other tests running at the same time. The keyring lock is still shared.
func privateConfigDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := shareKeyringLock(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// commandEnv is the environment of every qrlogin process: the caller's
// (with its D-Bus session), the shared config folder, one fixed locale (the
// C locales have a test of their own: locale_test.go), and extra overrides
// (a later duplicate wins in os/exec).
func commandEnv(extra ...string) []string {
	env := make([]string, 0, len(os.Environ())+4)
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "XDG_CONFIG_HOME=") || strings.HasPrefix(kv, "LANG=") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "XDG_CONFIG_HOME="+configDir, "LANG=en_US.UTF-8")
	return append(env, extra...)
}

// syncBuffer collects a process's output while tests read it.
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

// event is one JSON line of `qrlogin login --headless --json`.
type event map[string]any

func (e event) name() string        { s, _ := e["event"].(string); return s }
func (e event) str(k string) string { s, _ := e[k].(string); return s }

// loginProcess is one running `qrlogin login --headless --json` (or
// grant, startHeadless).
type loginProcess struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	stdout  syncBuffer
	stderr  syncBuffer
	events  chan event
	badLine chan string // stdout lines that are not JSON objects
	exited  chan struct{}
	exit    int
}

func startLogin(t *testing.T, ctx context.Context, program string, env []string, args ...string) *loginProcess {
	t.Helper()
	return startHeadless(t, ctx, program, env, "login", args...)
}

// startHeadless runs `qrlogin COMMAND --headless --json ARGS` (login, or
// grant to sign another device in), reading its JSON events.
func startHeadless(t *testing.T, ctx context.Context, program string, env []string, command string, args ...string) *loginProcess {
	t.Helper()
	p := &loginProcess{events: make(chan event, 64), badLine: make(chan string, 16), exited: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, program, append([]string{command, "--headless", "--json"}, args...)...)
	p.cmd.Env = env
	p.cmd.Stderr = &p.stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.events)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.stdout.Write([]byte(line + "\n"))
			var e event
			if err := json.Unmarshal([]byte(line), &e); err != nil || e.name() == "" {
				select {
				case p.badLine <- line:
				default:
				}
				continue
			}
			p.events <- e
		}
	}()
	go func() {
		err := p.cmd.Wait()
		p.exit = p.cmd.ProcessState.ExitCode()
		if err != nil && p.exit == 0 {
			p.exit = -1
		}
		close(p.exited)
	}()
	return p
}

// runCommand runs a short qrlogin command and returns stdout, stderr and
// the exit code.
func runCommand(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, qrloginBinary(t), args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := cmd.ProcessState.ExitCode()
	if err != nil && code == 0 {
		t.Fatalf("qrlogin %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}
