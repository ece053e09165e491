package phone

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/protocol/msc4108"
	"github.com/qrlogin/qrlogin/protocol/qrcode"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// handDrivenNewDevice plays the new device by hand (no login.Flow), so a
// test can send the phone what the real flow never would: it shows an
// MSC4388 QR code, accepts the phone's channel, confirms the check code and
// returns the channel on which m.login.protocols has been received.
func handDrivenNewDevice(t *testing.T, ctx context.Context, srv *devserver.Server, runPhone func(qr []byte, onCode func(string))) *securechannel.Channel {
	t.Helper()
	c, err := rendezvous.NewClient(rendezvous.ClientConfig{BaseURL: srv.URL(), Poll: fastPoll})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := c.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	g, err := securechannel.NewGenerator(vocab.MSC4388, vocab.VariantReference)
	if err != nil {
		t.Fatal(err)
	}
	p := qrcode.Payload{Generation: vocab.MSC4388, Intent: qrcode.IntentNewDevice,
		Prefix: qrcode.PrefixUnstable, RendezvousID: sess.ID(), BaseURL: sess.BaseURL()}
	copy(p.PublicKey[:], g.PublicKey())
	qr, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	codes := make(chan string, 1)
	runPhone(qr, func(code string) { codes <- code })
	ch, err := g.Accept(ctx, sess, securechannel.Binding{BaseURL: sess.BaseURL(), RendezvousID: sess.ID()})
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(<-codes); err != nil {
		t.Fatal(err)
	}
	raw, err := ch.Receive(ctx, vocab.PaceReply)
	if err != nil {
		t.Fatal(err)
	}
	var m msc4108.Protocols
	if err := json.Unmarshal(raw, &m); err != nil || m.Type != msc4108.TypeProtocols || m.BaseURL != srv.URL() {
		t.Fatalf("first message %s", raw)
	}
	return ch
}

// TestPhoneChecksTheProposal: the phone answers a device ID that exists
// with device_already_exists (it checks with GET /devices/{id}) and a
// protocol other than the device grant with unsupported_protocol.
func TestPhoneChecksTheProposal(t *testing.T) {
	for _, c := range []struct {
		name     string
		proposal msc4108.Protocol
		reason   string
	}{
		{"existing device", msc4108.Protocol{Type: msc4108.TypeProtocol, Protocol: msc4108.ProtocolDeviceGrant, DeviceID: DefaultDeviceID,
			DeviceGrant: &msc4108.DeviceGrant{VerificationURI: "http://127.0.0.1:1/link"}}, msc4108.ReasonDeviceAlreadyExists},
		{"other protocol", msc4108.Protocol{Type: msc4108.TypeProtocol, Protocol: "org.example.password", DeviceID: "NEWDEVICE01"}, msc4108.ReasonUnsupportedProtocol},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := startDevServer(t, devserver.Config{})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			phoneErr := make(chan error, 1)
			ch := handDrivenNewDevice(t, ctx, srv, func(qr []byte, onCode func(string)) {
				go func() {
					_, err := Run(ctx, Config{Homeserver: srv, Poll: fastPoll, OnCheckCode: onCode}, qr)
					phoneErr <- err
				}()
			})
			b, _ := json.Marshal(c.proposal)
			if err := ch.Send(ctx, b); err != nil {
				t.Fatal(err)
			}
			raw, err := ch.Receive(ctx, vocab.PaceReply)
			if err != nil {
				t.Fatal(err)
			}
			var f msc4108.Failure
			if err := json.Unmarshal(raw, &f); err != nil || f.Type != msc4108.TypeFailure || f.Reason != c.reason {
				t.Fatalf("phone answered %s, want m.login.failure %s", raw, c.reason)
			}
			var sf *SentFailureError
			if err := <-phoneErr; !errors.As(err, &sf) || sf.Reason != c.reason {
				t.Fatalf("phone returned %v", err)
			}
		})
	}
}
