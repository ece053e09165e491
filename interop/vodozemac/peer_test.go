package vodozemac_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/interop/nodepeer"
)

// suite is the npm package whose vodozemac the tests talk to; its version
// is pinned in package.json and package-lock.json.
var suite = &nodepeer.Suite{
	Name:         "vodozemac",
	MinNodeMajor: 18, // the package's "engines"
	Packages:     map[string]string{"@matrix-org/matrix-sdk-crypto-wasm": "18.9.0"},
}

const callTimeout = 30 * time.Second

// wasmPeer is a running peer.js.
type wasmPeer struct {
	t      *testing.T
	proc   *nodepeer.Process
	nextID int
}

// startPeer launches peer.js and waits until the wasm module is loaded.
// The process ends with the test (peer.js exits at end of input).
func startPeer(t *testing.T) *wasmPeer {
	t.Helper()
	p := &wasmPeer{t: t, proc: suite.Start(t, "peer.js", nodepeer.Options{})}
	var ready struct {
		Ready bool `json:"ready"`
	}
	if err := p.read(0, &ready); err != nil || !ready.Ready {
		t.Fatalf("peer.js did not start: %v\nstderr:\n%s", err, p.proc.Stderr)
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
	p.proc.Send(req)
	return p.read(p.nextID, resp)
}

func (p *wasmPeer) read(id int, resp any) error {
	p.t.Helper()
	select {
	case line, ok := <-p.proc.Lines:
		if !ok {
			p.t.Fatalf("peer.js exited\nstderr:\n%s", p.proc.Stderr)
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
		p.t.Fatalf("peer.js did not answer within %v\nstderr:\n%s", callTimeout, p.proc.Stderr)
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
