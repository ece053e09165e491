package vodozemac_test

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

// wasmPackage is the npm package whose vodozemac the tests talk to; its
// version is pinned in package.json and package-lock.json.
const (
	wasmPackage        = "@matrix-org/matrix-sdk-crypto-wasm"
	wasmPackageVersion = "18.9.0"
	minNodeMajor       = 18 // the package's "engines"
	callTimeout        = 30 * time.Second
	npmTimeout         = 5 * time.Minute
)

// requireNode returns the node binary, or skips the test (fails it when the
// CI environment variable is set: CI must run the interop tests).
func requireNode(t *testing.T) string {
	t.Helper()
	missing := func(format string, args ...any) string {
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("CI") != "" {
			t.Fatalf("%s (CI is set, so the vodozemac interop tests must run)", msg)
		}
		t.Skipf("%s; skipping the vodozemac interop tests (install Node.js >= %d and npm to run them)", msg, minNodeMajor)
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
	if major < minNodeMajor {
		return missing("node %s is older than %d", v, minNodeMajor)
	}
	return node
}

var (
	installOnce sync.Once
	installErr  error
)

// ensureModules runs `npm ci` in this folder once, when the pinned package
// is not installed yet.
func ensureModules(t *testing.T) {
	t.Helper()
	installOnce.Do(func() {
		pkgJSON := filepath.Join("node_modules", filepath.FromSlash(wasmPackage), "package.json")
		if raw, err := os.ReadFile(pkgJSON); err == nil {
			var pkg struct{ Version string }
			if json.Unmarshal(raw, &pkg) == nil && pkg.Version == wasmPackageVersion {
				return
			}
		}
		npm, err := exec.LookPath("npm")
		if err != nil {
			installErr = errors.New("node_modules is missing and npm is not on PATH")
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), npmTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		out, err := cmd.CombinedOutput()
		if err != nil {
			installErr = fmt.Errorf("npm ci: %v\n%s", err, out)
		}
	})
	if installErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(installErr)
		}
		t.Skipf("%v; skipping the vodozemac interop tests", installErr)
	}
}

// wasmPeer is a running peer.js.
type wasmPeer struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan []byte
	stderr *lockedBuffer
	nextID int
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startPeer launches peer.js and waits until the wasm module is loaded.
// The process ends with the test.
func startPeer(t *testing.T) *wasmPeer {
	t.Helper()
	node := requireNode(t)
	ensureModules(t)

	cmd := exec.Command(node, "peer.js")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &wasmPeer{t: t, cmd: cmd, stdin: stdin, lines: make(chan []byte, 16), stderr: &lockedBuffer{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
		for sc.Scan() {
			p.lines <- append([]byte(nil), sc.Bytes()...)
		}
		close(p.lines)
	}()
	t.Cleanup(func() {
		_ = stdin.Close() // peer.js exits at end of input
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})

	var ready struct {
		Ready bool `json:"ready"`
	}
	if err := p.read(0, &ready); err != nil || !ready.Ready {
		t.Fatalf("peer.js did not start: %v\nstderr:\n%s", err, p.stderr)
	}
	return p
}

// peerError is an error reported by vodozemac (the op ran and failed).
type peerError struct{ msg string }

func (e *peerError) Error() string { return "vodozemac: " + e.msg }

// call runs one op. Failures of the op itself come back as *peerError;
// protocol or process failures end the test.
func (p *wasmPeer) call(op string, args map[string]any, resp any) error {
	p.t.Helper()
	p.nextID++
	req := map[string]any{"id": p.nextID, "op": op}
	for k, v := range args {
		req[k] = v
	}
	line, err := json.Marshal(req)
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.stdin.Write(append(line, '\n')); err != nil {
		p.t.Fatalf("writing to peer.js: %v\nstderr:\n%s", err, p.stderr)
	}
	return p.read(p.nextID, resp)
}

func (p *wasmPeer) read(id int, resp any) error {
	p.t.Helper()
	select {
	case line, ok := <-p.lines:
		if !ok {
			p.t.Fatalf("peer.js exited\nstderr:\n%s", p.stderr)
		}
		var head struct {
			ID    *int   `json:"id"`
			OK    bool   `json:"ok"`
			Error string `json:"error"`
		}
		if err := json.Unmarshal(line, &head); err != nil {
			p.t.Fatalf("peer.js wrote %q: %v", line, err)
		}
		if head.ID == nil || *head.ID != id {
			p.t.Fatalf("peer.js answered out of order: %s", line)
		}
		if !head.OK {
			return &peerError{head.Error}
		}
		if resp != nil {
			if err := json.Unmarshal(line, resp); err != nil {
				p.t.Fatalf("peer.js answer %s: %v", line, err)
			}
		}
		return nil
	case <-time.After(callTimeout):
		p.t.Fatalf("peer.js did not answer within %v\nstderr:\n%s", callTimeout, p.stderr)
		return nil
	}
}

// mustCall is call for ops that must succeed.
func (p *wasmPeer) mustCall(op string, args map[string]any, resp any) {
	p.t.Helper()
	if err := p.call(op, args, resp); err != nil {
		p.t.Fatalf("%s: %v", op, err)
	}
}

// Typed wrappers for the ops.

type wasmCheckCode struct {
	Bytes         []int  `json:"bytes"`
	Digits        string `json:"digits"`
	NoLeadingZero int    `json:"no_leading_zero"`
}

type wasmEstablished struct {
	Channel   string        `json:"channel"`
	Message   string        `json:"message"`   // outbound: the initiate message
	Plaintext string        `json:"plaintext"` // inbound: the initiate's plaintext
	CheckCode wasmCheckCode `json:"check_code"`
}

// newECIES makes an unestablished vodozemac ECIES session.
func (p *wasmPeer) newECIES() (handle, publicKey string) {
	p.t.Helper()
	var r struct {
		Handle    string `json:"handle"`
		PublicKey string `json:"public_key"`
	}
	p.mustCall("ecies_new", nil, &r)
	return r.Handle, r.PublicKey
}

func (p *wasmPeer) establishOutbound(handle, peerKey, plaintext string) (wasmEstablished, error) {
	p.t.Helper()
	var r wasmEstablished
	err := p.call("establish_outbound", map[string]any{"handle": handle, "peer_key": peerKey, "plaintext": plaintext}, &r)
	return r, err
}

func (p *wasmPeer) establishInbound(handle, message string) (wasmEstablished, error) {
	p.t.Helper()
	var r wasmEstablished
	err := p.call("establish_inbound", map[string]any{"handle": handle, "message": message}, &r)
	return r, err
}

func (p *wasmPeer) encrypt(channel, plaintext string) string {
	p.t.Helper()
	var r struct {
		Message string `json:"message"`
	}
	p.mustCall("encrypt", map[string]any{"channel": channel, "plaintext": plaintext}, &r)
	return r.Message
}

func (p *wasmPeer) decrypt(channel, message string) (string, error) {
	p.t.Helper()
	var r struct {
		Plaintext string `json:"plaintext"`
	}
	err := p.call("decrypt", map[string]any{"channel": channel, "message": message}, &r)
	return r.Plaintext, err
}

// wasmQR is what QrCodeData exposes after parsing.
type wasmQR struct {
	Kind          string  `json:"kind"` // "msc4108" or "msc4388"
	Intent        int     `json:"intent"`
	PublicKey     string  `json:"public_key"`
	RendezvousURL *string `json:"rendezvous_url"`
	ServerName    *string `json:"server_name"`
	BaseURL       *string `json:"base_url"`
	RendezvousID  *string `json:"rendezvous_id"`
	B64           string  `json:"b64"` // QrCodeData.toBytes() after parsing
}

func (p *wasmPeer) parseQR(b64 string) (wasmQR, error) {
	p.t.Helper()
	var r wasmQR
	err := p.call("qr_parse", map[string]any{"b64": b64}, &r)
	return r, err
}

func (p *wasmPeer) makeQR(op string, args map[string]any) string {
	p.t.Helper()
	var r struct {
		B64 string `json:"b64"`
	}
	p.mustCall(op, args, &r)
	return r.B64
}
