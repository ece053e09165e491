package jssdk_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
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

// The npm packages the peer runs; their versions are pinned in package.json
// and package-lock.json.
const (
	jsSDKPackage        = "matrix-js-sdk"
	jsSDKPackageVersion = "43.0.0"
	wasmPackage         = "@matrix-org/matrix-sdk-crypto-wasm"
	wasmPackageVersion  = "18.9.0"
	// minNodeMajor: js-sdk 43 declares node >= 22 in "engines", but its
	// rendezvous, OAuth and discovery code runs on Node 20, the floor the
	// repository's README sets for the interop tests.
	minNodeMajor = 20
	npmTimeout   = 5 * time.Minute
	// eventTimeout bounds the wait for one event. A 2024 rendezvous lives
	// 60 s on Synapse and on the dev server, so a sign-in ends before that.
	eventTimeout = 90 * time.Second
	// peerLogEnv, when set, logs the peer's stderr (js-sdk's log and every
	// HTTP request it made) even when the test passes.
	peerLogEnv = "QRLOGIN_JSSDK_LOG"
)

// requireNode returns the node binary, or skips the test (fails it when the
// CI environment variable is set: CI must run the interop tests).
func requireNode(t *testing.T) string {
	t.Helper()
	missing := func(format string, args ...any) string {
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("CI") != "" {
			t.Fatalf("%s (CI is set, so the matrix-js-sdk interop tests must run)", msg)
		}
		t.Skipf("%s; skipping the matrix-js-sdk interop tests (install Node.js >= %d and npm to run them)", msg, minNodeMajor)
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

// ensureModules runs `npm ci` in this folder once, unless the pinned
// packages are installed already.
func ensureModules(t *testing.T) {
	t.Helper()
	installOnce.Do(func() {
		if installedVersion(jsSDKPackage) == jsSDKPackageVersion && installedVersion(wasmPackage) == wasmPackageVersion {
			return
		}
		npm, err := exec.LookPath("npm")
		if err != nil {
			installErr = errors.New("node_modules is missing and npm is not on PATH")
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), npmTimeout)
		defer cancel()
		out, err := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund").CombinedOutput()
		if err != nil {
			installErr = fmt.Errorf("npm ci: %v\n%s", err, out)
		}
	})
	if installErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(installErr)
		}
		t.Skipf("%v; skipping the matrix-js-sdk interop tests", installErr)
	}
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

// newDevicePeerOptions tunes the js-sdk new device.
type newDevicePeerOptions struct {
	// DeviceID is the device ID it announces in m.login.protocol and asks
	// for in its OAuth scope; empty means 10 random alphanumerics, as
	// js-sdk's generateScope makes.
	DeviceID string
}

// newDevicePeer is a running newdevice.mjs: matrix-js-sdk's new device that
// scanned a QR code. Its methods wait for the peer's events in order; each
// may be called in any order after the event it reads has arrived.
type newDevicePeer struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan []byte
	stderr *lockedBuffer

	seen map[string]json.RawMessage // event name -> its line
	done *newDeviceResult
}

// peerQR is what the peer read from the QR code (wasm QrCodeData).
type peerQR struct {
	Intent        int    `json:"intent"` // 1 = QrCodeIntent.Reciprocate (mode 0x04)
	ServerName    string `json:"server_name"`
	RendezvousURL string `json:"rendezvous_url"`
}

// peerHomeserver is where the peer's discovery led.
type peerHomeserver struct {
	BaseURL     string `json:"base_url"`
	Issuer      string `json:"issuer"`
	DeviceGrant bool   `json:"device_grant"`
}

// peerProtocol is what the peer put in m.login.protocol, and the user code
// it would display next to it.
type peerProtocol struct {
	DeviceID        string `json:"device_id"`
	UserCode        string `json:"user_code"`
	VerificationURI string `json:"verification_uri"` // js-sdk: _complete if present, else the plain one
}

// keyReport stands for one secret key the peer received: the length of the
// base64-decoded key and the hex SHA-256 of those bytes.
type keyReport struct {
	Bytes  int    `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// reportOf computes the keyReport of an unpadded (or padded) standard
// base64 key, to compare with what the peer reports.
func reportOf(b64 string) keyReport {
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(b64, "="))
	if err != nil {
		return keyReport{Bytes: -1}
	}
	sum := sha256.Sum256(raw)
	n := len(raw)
	clear(raw)
	return keyReport{Bytes: n, SHA256: hex.EncodeToString(sum[:])}
}

type backupReport struct {
	Algorithm     string     `json:"algorithm"`
	BackupVersion string     `json:"backup_version"`
	Key           *keyReport `json:"key"`
}

// secretsReport is what m.login.secrets carried, without the values.
type secretsReport struct {
	Fields         []string      `json:"fields"` // top-level members, sorted
	MasterKey      *keyReport    `json:"master_key"`
	SelfSigningKey *keyReport    `json:"self_signing_key"`
	UserSigningKey *keyReport    `json:"user_signing_key"`
	Backup         *backupReport `json:"backup"`
}

// newDeviceResult is how the peer's sign-in ended.
type newDeviceResult struct {
	OK bool `json:"ok"`
	// Stage is where it stopped: "qr", "secure_channel", "discovery",
	// "registration", "device_authorization", "token" (waiting for
	// m.login.protocol_accepted, then polling the token endpoint),
	// "secrets" (sent m.login.success, waiting for m.login.secrets) or
	// "done".
	Stage string `json:"stage"`
	// Reason is the code of js-sdk's RendezvousError: an MSC4108 failure
	// reason (the peer's own or the one G sent in m.login.failure) or a
	// js-sdk ClientRendezvousFailureReason; "" for other errors.
	Reason string `json:"reason"`
	// ChannelFailure is the first reason the rendezvous session reported
	// to its onFailure listener ("unknown" after a 404, "expired", ...).
	ChannelFailure string `json:"channel_failure"`
	Error          string `json:"error"`
	DeviceID       string `json:"device_id"`
	UserID         string `json:"user_id"` // from whoami with the new access token
	// Secrets is set when m.login.secrets arrived.
	Secrets *secretsReport `json:"secrets"`
}

func (r newDeviceResult) String() string {
	if r.OK {
		return fmt.Sprintf("signed in as %s on device %s (secrets: %v)", r.UserID, r.DeviceID, r.Secrets != nil)
	}
	return fmt.Sprintf("failed at %s: reason %q, channel failure %q: %s", r.Stage, r.Reason, r.ChannelFailure, r.Error)
}

// startNewDevicePeer starts matrix-js-sdk's new device on the QR code bytes
// an existing device shows (2024 format, mode 0x04). It returns once the
// peer has taken the QR code; the process ends with the test.
func startNewDevicePeer(t *testing.T, qr []byte) *newDevicePeer {
	t.Helper()
	return startNewDevicePeerWith(t, qr, newDevicePeerOptions{})
}

// startNewDevicePeerWith is startNewDevicePeer with options.
func startNewDevicePeerWith(t *testing.T, qr []byte, opts newDevicePeerOptions) *newDevicePeer {
	t.Helper()
	node := requireNode(t)
	ensureModules(t)

	cmd := exec.Command(node, "newdevice.mjs")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &newDevicePeer{t: t, cmd: cmd, stdin: stdin, lines: make(chan []byte, 16),
		stderr: &lockedBuffer{}, seen: map[string]json.RawMessage{}}
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
		_ = stdin.Close() // newdevice.mjs exits when its input ends
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() || os.Getenv(peerLogEnv) != "" {
			t.Logf("newdevice.mjs stderr:\n%s", p.stderr)
		}
	})

	var ready struct {
		JSSDK string `json:"js_sdk"`
		Wasm  string `json:"wasm"`
	}
	p.event("ready", &ready)
	if ready.JSSDK != jsSDKPackageVersion || ready.Wasm != wasmPackageVersion {
		t.Fatalf("newdevice.mjs runs matrix-js-sdk %s with wasm %s, want %s with %s (run npm ci in interop/jssdk)",
			ready.JSSDK, ready.Wasm, jsSDKPackageVersion, wasmPackageVersion)
	}
	req, err := json.Marshal(map[string]any{
		"op": "scan", "qr": base64.StdEncoding.EncodeToString(qr), "device_id": opts.DeviceID,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stdin.Write(append(req, '\n')); err != nil {
		t.Fatalf("writing to newdevice.mjs: %v\nstderr:\n%s", err, p.stderr)
	}
	return p
}

// event waits for the named event and decodes it into v. If the peer
// finishes first, the test fails with how it ended.
func (p *newDevicePeer) event(name string, v any) {
	p.t.Helper()
	raw, ok := p.await(name)
	if !ok {
		p.t.Fatalf("newdevice.mjs ended before %q: %v", name, p.done)
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			p.t.Fatalf("newdevice.mjs event %s: %v", raw, err)
		}
	}
}

// await reads events until name has been seen (true) or the peer is done
// (false, p.done set).
func (p *newDevicePeer) await(name string) (json.RawMessage, bool) {
	p.t.Helper()
	deadline := time.NewTimer(eventTimeout)
	defer deadline.Stop()
	for {
		if raw, ok := p.seen[name]; ok {
			return raw, true
		}
		if p.done != nil {
			return nil, false
		}
		select {
		case line, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("newdevice.mjs exited without finishing (waiting for %q)\nstderr:\n%s", name, p.stderr)
			}
			var head struct {
				Event string `json:"event"`
				Error string `json:"error"`
			}
			if err := json.Unmarshal(line, &head); err != nil || head.Event == "" {
				p.t.Fatalf("newdevice.mjs wrote %q", line)
			}
			switch head.Event {
			case "error":
				p.t.Fatalf("newdevice.mjs refused the request: %s", head.Error)
			case "done":
				var r newDeviceResult
				if err := json.Unmarshal(line, &r); err != nil {
					p.t.Fatalf("newdevice.mjs result %s: %v", line, err)
				}
				p.done = &r
			}
			p.seen[head.Event] = line
		case <-deadline.C:
			p.t.Fatalf("newdevice.mjs sent no %q within %v\nstderr:\n%s", name, eventTimeout, p.stderr)
		}
	}
}

// QR returns what the peer read from the QR code.
func (p *newDevicePeer) QR() peerQR {
	p.t.Helper()
	var q peerQR
	p.event("qr", &q)
	return q
}

// CheckCode returns the two digits the new device displays once the secure
// channel is up (js-sdk's MSC4108SignInWithQR.checkCode): what the user
// types on the existing device.
func (p *newDevicePeer) CheckCode() string {
	p.t.Helper()
	var c struct {
		Code string `json:"code"`
	}
	p.event("check_code", &c)
	return c.Code
}

// Homeserver returns where the peer's discovery of the QR's server name led.
func (p *newDevicePeer) Homeserver() peerHomeserver {
	p.t.Helper()
	var h peerHomeserver
	p.event("homeserver", &h)
	return h
}

// ProtocolSent returns what the peer sent in m.login.protocol, once it is on
// the wire.
func (p *newDevicePeer) ProtocolSent() peerProtocol {
	p.t.Helper()
	var m peerProtocol
	p.event("protocol_sent", &m)
	return m
}

// WaitDone waits for the end of the peer's sign-in and returns how it went.
func (p *newDevicePeer) WaitDone() newDeviceResult {
	p.t.Helper()
	p.await("done")
	return *p.done
}
