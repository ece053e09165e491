package jssdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/internal/devserver/devservertest"
	"github.com/qrlogin/qrlogin/protocol/matrix"
	"github.com/qrlogin/qrlogin/protocol/msc4108"
	"github.com/qrlogin/qrlogin/protocol/qrcode"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// gDeviceID is the existing device's own device ID on the dev homeserver.
const gDeviceID = "QRLOGINDESKTOP"

// startDevServer runs the development homeserver on 127.0.0.1 with a 1 s
// device-code poll interval, so js-sdk's token polling (which waits the
// interval between attempts) stays well inside the 60 s rendezvous.
func startDevServer(t *testing.T) *devserver.Server {
	t.Helper()
	return devservertest.Start(t, devserver.Config{PollInterval: time.Second})
}

// minimalG is the smallest existing device that shows a 2024 QR code, built
// from the protocol packages: an ETag rendezvous on the dev homeserver, an
// ECIES generator, and a version 0x02 mode 0x04 ("reciprocate") QR code
// carrying the server name. It does what qrlogin's grant (grant_test.go)
// never does, to pin facts about js-sdk: a URL as the server name, as
// matrix-rust-sdk's existing device writes, and a stray m.login.protocols.
type minimalG struct {
	t    *testing.T
	dev  *devserver.Server
	sess *rendezvous.ETagSession
	gen  *securechannel.Generator
	qr   []byte
}

func newMinimalG(ctx context.Context, t *testing.T, dev *devserver.Server, serverName string) *minimalG {
	t.Helper()
	c, err := rendezvous.NewETagClient(rendezvous.ETagConfig{
		HomeserverURL: dev.URL(),
		Poll:          rendezvous.PollConfig{Reply: 100 * time.Millisecond, Human: 250 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := c.Create(ctx)
	if err != nil {
		t.Fatalf("creating the rendezvous: %v", err)
	}
	gen, err := securechannel.NewGenerator(vocab.MSC4108v2024, "")
	if err != nil {
		t.Fatal(err)
	}
	p := qrcode.Payload{
		Generation:    vocab.MSC4108v2024,
		Intent:        qrcode.IntentExistingDevice,
		RendezvousURL: sess.URL(),
		ServerName:    serverName,
	}
	copy(p.PublicKey[:], gen.PublicKey())
	qr, err := p.Encode()
	if err != nil {
		t.Fatalf("encoding the QR code: %v", err)
	}
	return &minimalG{t: t, dev: dev, sess: sess, gen: gen, qr: qr}
}

// accept waits for the scanner's LoginInitiate and answers LoginOk.
func (g *minimalG) accept(ctx context.Context) *securechannel.Channel {
	g.t.Helper()
	ch, err := g.gen.Accept(ctx, g.sess, securechannel.Binding{})
	if err != nil {
		g.t.Fatalf("secure channel: %v", err)
	}
	g.t.Cleanup(ch.Close)
	return ch
}

func (g *minimalG) send(ctx context.Context, ch *securechannel.Channel, msg any) {
	g.t.Helper()
	b, err := json.Marshal(msg)
	if err != nil {
		g.t.Fatal(err)
	}
	defer clear(b)
	if err := ch.Send(ctx, b); err != nil {
		g.t.Fatalf("sending %T: %v", msg, err)
	}
}

// receive reads the peer's next message and checks its type.
func (g *minimalG) receive(ctx context.Context, ch *securechannel.Channel, want string) []byte {
	g.t.Helper()
	raw, err := ch.Receive(ctx, vocab.PaceHuman)
	if err != nil {
		g.t.Fatalf("waiting for %s: %v", want, err)
	}
	typ, err := msc4108.TypeOf(raw)
	if err != nil || typ != want {
		g.t.Fatalf("got %s, want %s", raw, want)
	}
	return raw
}

// signedIn is G's own session, for GET /devices/{id}.
func (g *minimalG) signedIn() *matrix.Client {
	g.t.Helper()
	tokens, err := g.dev.LoginDevice(gDeviceID)
	if err != nil {
		g.t.Fatal(err)
	}
	return matrix.NewClient(&http.Client{Timeout: 10 * time.Second}, g.dev.URL(), tokens.AccessToken.Reveal())
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestJSSDKNewDeviceSignsIn walks the whole 2024 sign-in with js-sdk as the
// new device that scanned and a minimal G as the existing device: the
// secure channel and the check code (MSC4388 "Establishment" as the 2024
// stack does it), m.login.protocol, protocol_accepted after the device-ID
// check (MSC4108 step 4), consent, m.login.success, the device check and
// m.login.secrets ("Secret sharing and device verification").
func TestJSSDKNewDeviceSignsIn(t *testing.T) {
	for _, tc := range []struct {
		name       string
		serverName func(dev *devserver.Server) string
	}{
		// rust-sdk's existing device puts the homeserver URL in the QR code.
		{"server name is the base URL", func(dev *devserver.Server) string { return dev.URL() }},
		// rust-sdk writes the URL with a trailing slash. js-sdk's discovery
		// then asks for //.well-known/matrix/client; the dev server (Go's
		// ServeMux) redirects that to the clean path, which a production
		// server need not do.
		{"server name is the base URL with a slash", func(dev *devserver.Server) string { return dev.URL() + "/" }},
		// js-sdk's existing device puts its bare server name (getDomain)
		// there, as qrlogin's grant does: TestJSSDKGrantSignsIn.
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			dev := startDevServer(t)
			serverName := tc.serverName(dev)
			g := newMinimalG(ctx, t, dev, serverName)
			peer := startNewDevicePeer(t, g.qr)
			ch := g.accept(ctx)

			if q := peer.QR(); q.Intent != int(qrcode.IntentExistingDevice) || q.ServerName != serverName || q.RendezvousURL != g.sess.URL() {
				t.Fatalf("peer read the QR code as %+v, want intent 1, server name %q, rendezvous %q", q, serverName, g.sess.URL())
			}
			// Both sides show the 2024 code as two digits, leading zero kept.
			code := peer.CheckCode()
			if want := ch.CheckCode().String(); code != want {
				t.Fatalf("peer shows check code %q, G expects %q", code, want)
			}

			// The new device that scanned does not wait for m.login.protocols
			// nor for the code to be typed: m.login.protocol is its first
			// message after LoginOk, and G reads it before the user confirms.
			raw := g.receive(ctx, ch, msc4108.TypeProtocol)
			if err := ch.Confirm(code); err != nil {
				t.Fatalf("confirming the check code: %v", err)
			}
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(raw, &fields); err != nil {
				t.Fatal(err)
			}
			keys := make([]string, 0, len(fields))
			for k := range fields {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if want := []string{"device_authorization_grant", "device_id", "protocol", "type"}; !slices.Equal(keys, want) {
				t.Errorf("m.login.protocol has members %v, want %v", keys, want)
			}
			var proto msc4108.Protocol
			if err := json.Unmarshal(raw, &proto); err != nil {
				t.Fatal(err)
			}
			sent := peer.ProtocolSent()
			if proto.Protocol != msc4108.ProtocolDeviceGrant || proto.DeviceGrant == nil ||
				proto.DeviceGrant.VerificationURI != dev.ConsentURL() || proto.DeviceGrant.VerificationURIComplete != "" ||
				proto.DeviceID == "" || proto.DeviceID != sent.DeviceID {
				t.Fatalf("m.login.protocol %s; peer says it sent device %q", raw, sent.DeviceID)
			}
			if hs := peer.Homeserver(); hs.BaseURL != dev.URL() || !hs.DeviceGrant {
				t.Fatalf("peer discovered %+v, want base URL %s with the device grant", hs, dev.URL())
			}

			// MSC4108 step 4: the device must not exist yet.
			mc := g.signedIn()
			if _, err := mc.Device(ctx, proto.DeviceID); !matrix.IsNotFound(err) {
				t.Fatalf("GET /devices/%s before sign-in: %v, want 404", proto.DeviceID, err)
			}
			g.send(ctx, ch, msc4108.Simple{Type: msc4108.TypeProtocolAccepted})

			// Step 5, the consent page, as the browser on G would do it.
			userCode, err := dev.UserCodeFor(proto.DeviceID)
			if err != nil {
				t.Fatal(err)
			}
			if userCode != sent.UserCode {
				t.Fatalf("the consent page waits for user code %q, the peer shows %q", userCode, sent.UserCode)
			}
			if err := dev.Approve(userCode); err != nil {
				t.Fatal(err)
			}

			g.receive(ctx, ch, msc4108.TypeSuccess)
			if _, err := mc.Device(ctx, proto.DeviceID); err != nil {
				t.Fatalf("GET /devices/%s after m.login.success: %v", proto.DeviceID, err)
			}
			acct, err := dev.AccountSecrets()
			if err != nil {
				t.Fatal(err)
			}
			g.send(ctx, ch, msc4108.Secrets{
				Type: msc4108.TypeSecrets,
				CrossSigning: msc4108.CrossSigningSecret{
					MasterKey:      acct.MasterKey.Reveal(),
					SelfSigningKey: acct.SelfSigningKey.Reveal(),
					UserSigningKey: acct.UserSigningKey.Reveal(),
				},
				Backup: &msc4108.BackupSecret{
					Algorithm: acct.BackupAlgorithm, Key: acct.BackupKey.Reveal(), BackupVersion: acct.BackupVersion,
				},
			})

			res := peer.WaitDone()
			if !res.OK || res.Stage != "done" {
				t.Fatalf("peer: %v", res)
			}
			if res.UserID != dev.UserID() || res.DeviceID != proto.DeviceID {
				t.Errorf("peer signed in as %s on %s, want %s on %s", res.UserID, res.DeviceID, dev.UserID(), proto.DeviceID)
			}
			checkSecrets(t, res.Secrets, acct)
		})
	}
}

// TestJSSDKNewDeviceDoesNotWaitForProtocols: when the existing device
// generated the QR code, the new device that scanned proceeds at once
// (MSC4108 "1. Homeserver discovery"), so there is no turn for an
// m.login.protocols from G. js-sdk's m.login.protocol is on the wire before
// a person can type the check code; a G that then writes m.login.protocols
// anyway meets the 2024 rendezvous's 412.
func TestJSSDKNewDeviceDoesNotWaitForProtocols(t *testing.T) {
	ctx := testContext(t)
	dev := startDevServer(t)
	g := newMinimalG(ctx, t, dev, dev.URL())
	peer := startNewDevicePeer(t, g.qr)
	ch := g.accept(ctx)
	if err := ch.Confirm(peer.CheckCode()); err != nil {
		t.Fatal(err)
	}
	peer.ProtocolSent()
	err := ch.Send(ctx, []byte(`{"type":"m.login.protocols","protocols":["device_authorization_grant"],"homeserver":"`+dev.URL()+`/"}`))
	if !errors.Is(err, rendezvous.ErrConcurrentWrite) {
		t.Fatalf("G writing m.login.protocols after the peer's m.login.protocol: %v, want %v", err, rendezvous.ErrConcurrentWrite)
	}
}
