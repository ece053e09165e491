package jssdk_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/interop/nodepeer"
)

// suite is the npm packages the peer runs; their versions are pinned in
// package.json and package-lock.json.
var suite = &nodepeer.Suite{
	Name: "matrix-js-sdk",
	// js-sdk 43 declares node >= 22 in "engines", but its rendezvous, OAuth
	// and discovery code runs on Node 20, the floor the repository's README
	// sets for the interop tests.
	MinNodeMajor: 20,
	Packages: map[string]string{
		jsSDKPackage: jsSDKPackageVersion,
		wasmPackage:  wasmPackageVersion,
	},
}

const (
	jsSDKPackage        = "matrix-js-sdk"
	jsSDKPackageVersion = "43.0.0"
	wasmPackage         = "@matrix-org/matrix-sdk-crypto-wasm"
	wasmPackageVersion  = "18.9.0"
	// eventTimeout bounds the wait for one event. A 2024 rendezvous lives
	// 60 s on Synapse and on the dev server, so a sign-in ends before that.
	eventTimeout = 90 * time.Second
	// peerLogEnv, when set, logs the peer's stderr (js-sdk's log and every
	// HTTP request it made) even when the test passes.
	peerLogEnv = "QRLOGIN_JSSDK_LOG"
)

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
	t    *testing.T
	proc *nodepeer.Process

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

// checkSecrets asserts that the peer received the account's cross-signing
// keys and backup, each a 32-byte key, in an m.login.secrets with exactly
// the members type, cross_signing and backup.
func checkSecrets(t *testing.T, s *secretsReport, acct devserver.AccountSecrets) {
	t.Helper()
	if s == nil {
		t.Fatal("peer reports no secrets")
	}
	if want := []string{"backup", "cross_signing", "type"}; !slices.Equal(s.Fields, want) {
		t.Errorf("m.login.secrets members %v, want %v", s.Fields, want)
	}
	for name, pair := range map[string]struct {
		got  *keyReport
		want string
	}{
		"master_key":       {s.MasterKey, acct.MasterKey.Reveal()},
		"self_signing_key": {s.SelfSigningKey, acct.SelfSigningKey.Reveal()},
		"user_signing_key": {s.UserSigningKey, acct.UserSigningKey.Reveal()},
	} {
		if want := reportOf(pair.want); pair.got == nil || *pair.got != want || want.Bytes != 32 {
			t.Errorf("%s: peer got %+v, the account has %+v", name, pair.got, want)
		}
	}
	if b := s.Backup; b == nil || b.Key == nil || *b.Key != reportOf(acct.BackupKey.Reveal()) ||
		b.Algorithm != acct.BackupAlgorithm || b.BackupVersion != acct.BackupVersion {
		t.Errorf("backup: peer got %+v", b)
	}
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
	// newdevice.mjs exits when its input ends, which is when the test ends.
	p := &newDevicePeer{t: t, proc: suite.Start(t, "newdevice.mjs", nodepeer.Options{LogEnv: peerLogEnv}),
		seen: map[string]json.RawMessage{}}

	var ready struct {
		JSSDK string `json:"js_sdk"`
		Wasm  string `json:"wasm"`
	}
	p.event("ready", &ready)
	if ready.JSSDK != jsSDKPackageVersion || ready.Wasm != wasmPackageVersion {
		t.Fatalf("newdevice.mjs runs matrix-js-sdk %s with wasm %s, want %s with %s (run npm ci in interop/jssdk)",
			ready.JSSDK, ready.Wasm, jsSDKPackageVersion, wasmPackageVersion)
	}
	p.proc.Send(map[string]any{
		"op": "scan", "qr": base64.StdEncoding.EncodeToString(qr), "device_id": opts.DeviceID,
	})
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
		case line, ok := <-p.proc.Lines:
			if !ok {
				p.t.Fatalf("newdevice.mjs exited without finishing (waiting for %q)\nstderr:\n%s", name, p.proc.Stderr)
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
			p.t.Fatalf("newdevice.mjs sent no %q within %v\nstderr:\n%s", name, eventTimeout, p.proc.Stderr)
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
