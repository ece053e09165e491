// Package nodepeer is what the real-peer interop tests (interop/vodozemac,
// interop/jssdk) share: the Node.js and npm requirement, and a Node.js
// script run as a child process that speaks JSON lines on stdin/stdout.
//
// It is test support only: nothing outside the interop tests imports it.
package nodepeer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	npmTimeout = 5 * time.Minute
	// exitTimeout bounds the wait for a script to exit once its input
	// ended; it is killed after that.
	exitTimeout = 5 * time.Second
)

// Suite names one folder of interop tests and the npm packages they need.
// Declare it as a package-level pointer: EnsureModules installs once per
// Suite.
type Suite struct {
	// Name is how skip and failure messages call the tests ("vodozemac").
	Name string
	// MinNodeMajor is the oldest Node.js major version the tests run on.
	MinNodeMajor int
	// Packages maps each npm package to the version pinned in the folder's
	// package.json and package-lock.json.
	Packages map[string]string

	installOnce sync.Once
	installErr  error
}

// RequireNode returns the node binary, or skips the test (fails it when the
// CI environment variable is set: CI must run the interop tests).
func (s *Suite) RequireNode(t testing.TB) string {
	t.Helper()
	missing := func(format string, args ...any) string {
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("CI") != "" {
			t.Fatalf("%s (CI is set, so the %s interop tests must run)", msg, s.Name)
		}
		t.Skipf("%s; skipping the %s interop tests (install Node.js >= %d and npm to run them)", msg, s.Name, s.MinNodeMajor)
		return ""
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return missing("node is not on PATH")
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return missing("node --version failed: %v", err)
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
	major, _ := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	if major < s.MinNodeMajor {
		return missing("node %s is older than %d", v, s.MinNodeMajor)
	}
	return node
}

// installedVersion reads node_modules/<pkg>/package.json's version, "" if
// the package is not installed.
func installedVersion(pkg string) string {
	raw, err := os.ReadFile(filepath.Join("node_modules", filepath.FromSlash(pkg), "package.json"))
	if err != nil {
		return ""
	}
	var p struct{ Version string }
	if json.Unmarshal(raw, &p) != nil {
		return ""
	}
	return p.Version
}

// EnsureModules runs `npm ci` in the test's folder (the working directory
// of a Go test) once, unless every pinned package is installed already.
// Without npm it skips the test, or fails it when CI is set.
func (s *Suite) EnsureModules(t testing.TB) {
	t.Helper()
	s.installOnce.Do(func() {
		installed := true
		for pkg, version := range s.Packages {
			if installedVersion(pkg) != version {
				installed = false
			}
		}
		if installed {
			return
		}
		npm, err := exec.LookPath("npm")
		if err != nil {
			s.installErr = errors.New("node_modules is missing and npm is not on PATH")
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), npmTimeout)
		defer cancel()
		out, err := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund").CombinedOutput()
		if err != nil {
			s.installErr = fmt.Errorf("npm ci: %v\n%s", err, out)
		}
	})
	if s.installErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(s.installErr)
		}
		t.Skipf("%v; skipping the %s interop tests", s.installErr, s.Name)
	}
}

// LockedBuffer is a bytes.Buffer safe for a child process writing while a
// test reads.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Options tunes Start.
type Options struct {
	// LogEnv, when not empty, names an environment variable: the script's
	// stderr is logged when the test ends, if the test failed or that
	// variable is set.
	LogEnv string
}

// Process is a running Node.js script speaking JSON lines.
type Process struct {
	t      testing.TB
	script string
	stdin  io.WriteCloser
	// Lines carries each line the script writes to stdout; it is closed
	// when stdout ends.
	Lines <-chan []byte
	// Stderr collects what the script writes to stderr.
	Stderr *LockedBuffer
}

// Start runs `node script` in the test's folder. The script must exit when
// its input ends: it does when the test ends (after a grace period it is
// killed).
func (s *Suite) Start(t testing.TB, script string, opts Options) *Process {
	t.Helper()
	node := s.RequireNode(t)
	s.EnsureModules(t)

	cmd := exec.Command(node, script)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	lines := make(chan []byte, 16)
	p := &Process{t: t, script: script, stdin: stdin, Lines: lines, Stderr: &LockedBuffer{}}
	cmd.Stderr = p.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
		for sc.Scan() {
			lines <- append([]byte(nil), sc.Bytes()...)
		}
		close(lines)
	}()
	t.Cleanup(func() {
		_ = stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(exitTimeout):
			_ = cmd.Process.Kill()
			<-done
		}
		if opts.LogEnv != "" && (t.Failed() || os.Getenv(opts.LogEnv) != "") {
			t.Logf("%s stderr:\n%s", script, p.Stderr)
		}
	})
	return p
}

// Send writes v as one JSON line to the script's stdin; a failure ends the
// test.
func (p *Process) Send(v any) {
	p.t.Helper()
	line, err := json.Marshal(v)
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.stdin.Write(append(line, '\n')); err != nil {
		p.t.Fatalf("writing to %s: %v\nstderr:\n%s", p.script, err, p.Stderr)
	}
}
