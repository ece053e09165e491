package phone

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/protocol/matrix"
	"github.com/qrlogin/qrlogin/protocol/msc4108"
	"github.com/qrlogin/qrlogin/protocol/qrcode"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// testGDeviceID is the minimal existing device's own device on the account.
const testGDeviceID = "QRLOGINDESKTOP"

// minimalG is the smallest existing device that shows a QR code (MSC4388
// intent 0x01, 2024 mode 0x04), built from the protocol packages only: it
// stands in for the existing-device flow so the scripted new device can be
// tested on its own.
type minimalG struct {
	t    *testing.T
	dev  *devserver.Server
	sess rendezvous.Session
	gen  *securechannel.Generator
	bind securechannel.Binding
	qr   []byte
	ch   *securechannel.Channel
}

type gOptions struct {
	gen vocab.Generation
	// serverName for the 2024 QR code (default: the base URL).
	serverName string
	// stable: MSC4388 with the MSC text's prefix, path and variant.
	stable bool
}

func newMinimalG(ctx context.Context, t *testing.T, dev *devserver.Server, o gOptions) *minimalG {
	t.Helper()
	g := &minimalG{t: t, dev: dev}
	variant := vocab.VariantReference
	p := qrcode.Payload{Generation: o.gen, Intent: qrcode.IntentExistingDevice}
	switch o.gen {
	case vocab.MSC4388:
		path := rendezvous.PathUnstable
		p.Prefix = qrcode.PrefixUnstable
		if o.stable {
			variant, path, p.Prefix = vocab.VariantMSCText, rendezvous.PathStable, qrcode.PrefixStable
		}
		c, err := rendezvous.NewClient(rendezvous.ClientConfig{BaseURL: dev.URL(), Path: path, Poll: fastPoll})
		if err != nil {
			t.Fatal(err)
		}
		sess, err := c.Create(ctx)
		if err != nil {
			t.Fatalf("creating the rendezvous: %v", err)
		}
		g.sess = sess
		p.RendezvousID, p.BaseURL = sess.ID(), sess.BaseURL()
		g.bind = securechannel.Binding{BaseURL: sess.BaseURL(), RendezvousID: sess.ID()}
	default:
		c, err := rendezvous.NewETagClient(rendezvous.ETagConfig{HomeserverURL: dev.URL(), Poll: fastPoll})
		if err != nil {
			t.Fatal(err)
		}
		sess, err := c.Create(ctx)
		if err != nil {
			t.Fatalf("creating the rendezvous: %v", err)
		}
		g.sess = sess
		p.RendezvousURL, p.ServerName = sess.URL(), o.serverName
		if p.ServerName == "" {
			p.ServerName = dev.URL()
		}
	}
	gen, err := securechannel.NewGenerator(o.gen, variant)
	if err != nil {
		t.Fatal(err)
	}
	g.gen = gen
	copy(p.PublicKey[:], gen.PublicKey())
	if g.qr, err = p.Encode(); err != nil {
		t.Fatal(err)
	}
	return g
}

func (g *minimalG) accept(ctx context.Context) {
	g.t.Helper()
	ch, err := g.gen.Accept(ctx, g.sess, g.bind)
	if err != nil {
		g.t.Fatalf("secure channel: %v", err)
	}
	g.ch = ch
	g.t.Cleanup(ch.Close)
}

func (g *minimalG) send(ctx context.Context, msg any) {
	g.t.Helper()
	b, err := json.Marshal(msg)
	if err != nil {
		g.t.Fatal(err)
	}
	defer clear(b)
	if err := g.ch.Send(ctx, b); err != nil {
		g.t.Fatalf("sending %T: %v", msg, err)
	}
}

// receive reads the new device's next message and checks its type.
func (g *minimalG) receive(ctx context.Context, want string) []byte {
	g.t.Helper()
	raw, err := g.ch.Receive(ctx, vocab.PaceReply)
	if err != nil {
		g.t.Fatalf("waiting for %s: %v", want, err)
	}
	if typ, err := msc4108.TypeOf(raw); err != nil || typ != want {
		g.t.Fatalf("got %s, want %s", raw, want)
	}
	return raw
}

// receiveFailure reads the new device's next message, which must be
// m.login.failure with reason.
func (g *minimalG) receiveFailure(ctx context.Context, reason string) {
	g.t.Helper()
	var f msc4108.Failure
	if err := json.Unmarshal(g.receive(ctx, msc4108.TypeFailure), &f); err != nil || f.Reason != reason {
		g.t.Fatalf("m.login.failure %+v (%v), want reason %s", f, err, reason)
	}
}

// end deletes the rendezvous, as an existing device does when it gives up.
func (g *minimalG) end(ctx context.Context) {
	g.t.Helper()
	if err := g.sess.Cancel(ctx); err != nil {
		g.t.Fatalf("deleting the rendezvous: %v", err)
	}
}

// account is G's own session, for GET /devices/{id}.
func (g *minimalG) account() *matrix.Client {
	g.t.Helper()
	tokens, err := g.dev.LoginDevice(testGDeviceID)
	if err != nil {
		g.t.Fatal(err)
	}
	return matrix.NewClient(&http.Client{Timeout: 10 * time.Second}, g.dev.URL(), tokens.AccessToken.Reveal())
}

func (g *minimalG) shareSecrets(ctx context.Context) {
	g.t.Helper()
	acct, err := g.dev.AccountSecrets()
	if err != nil {
		g.t.Fatal(err)
	}
	g.send(ctx, msc4108.Secrets{
		Type: msc4108.TypeSecrets,
		CrossSigning: msc4108.CrossSigningSecret{
			MasterKey: acct.MasterKey.Reveal(), SelfSigningKey: acct.SelfSigningKey.Reveal(), UserSigningKey: acct.UserSigningKey.Reveal(),
		},
		Backup: &msc4108.BackupSecret{Algorithm: acct.BackupAlgorithm, Key: acct.BackupKey.Reveal(), BackupVersion: acct.BackupVersion},
	})
}

// scannedRun is a new device that scanned a minimal G's QR code, up to
// the point where G has confirmed the check code and holds m.login.protocol.
type scannedRun struct {
	dev   *devserver.Server
	g     *minimalG
	nd    *NewDevice
	proto msc4108.Protocol
	raw   []byte
}

// scan shows a minimal G's QR code to a new device started with cfg,
// confirms the check code and, unless noProtocol, reads the new device's
// first message.
func scan(t *testing.T, ctx context.Context, dev *devserver.Server, g gOptions, cfg NewDeviceConfig, noProtocol bool) *scannedRun {
	t.Helper()
	gd := newMinimalG(ctx, t, dev, g)
	cfg.Poll = fastPoll
	// A test that fails early must not wait for the new device's timeout.
	ndCtx, stop := context.WithCancel(ctx)
	nd := StartNewDevice(ndCtx, cfg, gd.qr)
	t.Cleanup(func() { stop(); <-nd.Done() })
	gd.accept(ctx)
	code, err := nd.CheckCode(ctx)
	if err != nil {
		t.Fatalf("no check code: %v", err)
	}
	if code != gd.ch.CheckCode().String() {
		t.Fatalf("new device shows %q, G expects %q", code, gd.ch.CheckCode())
	}
	r := &scannedRun{dev: dev, g: gd, nd: nd}
	if noProtocol {
		if err := gd.ch.Confirm(code); err != nil {
			t.Fatal(err)
		}
		return r
	}
	// The new device that scanned sends m.login.protocol at once, before
	// anyone typed the check code on G: G reads it, then confirms.
	raw, err := gd.ch.Receive(ctx, vocab.PaceReply)
	if err != nil {
		t.Fatalf("waiting for the first message: %v", err)
	}
	if err := gd.ch.Confirm(code); err != nil {
		t.Fatal(err)
	}
	r.raw = raw
	_ = json.Unmarshal(raw, &r.proto)
	return r
}

// approve plays the user on the consent page for the proposed device.
func (r *scannedRun) approve(ctx context.Context, t *testing.T) {
	t.Helper()
	code, err := r.dev.UserCodeFor(r.proto.DeviceID)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.dev.Approve(code); err != nil {
		t.Fatal(err)
	}
}

func newDeviceContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var deviceIDPattern = regexp.MustCompile(`^[A-Z0-9]{10}$`)

// TestNewDeviceSignsIn walks the whole exchange with a minimal G in both
// generations: channel and check code, m.login.protocol first (MSC4108
// "New device scanned QR code"), protocol_accepted, consent, the token,
// m.login.success, m.login.secrets checked against the server's keys.
func TestNewDeviceSignsIn(t *testing.T) {
	for _, c := range []struct {
		name       string
		g          gOptions
		serverName func(base string) string
		byDouble   bool // the new device's Consent approves, not the test
	}{
		{name: "msc4388", g: gOptions{gen: vocab.MSC4388}},
		{name: "msc4388 msc-text", g: gOptions{gen: vocab.MSC4388, stable: true}},
		{name: "msc4388 consent by the double", g: gOptions{gen: vocab.MSC4388}, byDouble: true},
		{name: "2024 base URL", g: gOptions{gen: vocab.MSC4108v2024}},
		{name: "2024 base URL with slash", g: gOptions{gen: vocab.MSC4108v2024}, serverName: func(u string) string { return u + "/" }},
		{name: "2024 bare server name", g: gOptions{gen: vocab.MSC4108v2024}, byDouble: true, serverName: func(u string) string {
			p, _ := url.Parse(u)
			return p.Host
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := newDeviceContext(t)
			dev := startDevServer(t, devserver.Config{MSC4388StablePaths: c.g.stable})
			g := c.g
			if c.serverName != nil {
				g.serverName = c.serverName(dev.URL())
			}
			var cfg NewDeviceConfig
			if c.byDouble {
				cfg.Consent = dev
			}
			r := scan(t, ctx, dev, g, cfg, false)

			var fields map[string]json.RawMessage
			if err := json.Unmarshal(r.raw, &fields); err != nil {
				t.Fatal(err)
			}
			var keys []string
			for k := range fields {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if want := []string{"device_authorization_grant", "device_id", "protocol", "type"}; !slices.Equal(keys, want) {
				t.Errorf("m.login.protocol has members %v, want %v", keys, want)
			}
			p := r.proto
			if p.Type != msc4108.TypeProtocol || p.Protocol != msc4108.ProtocolDeviceGrant || p.DeviceGrant == nil ||
				p.DeviceGrant.VerificationURI != dev.ConsentURL() || !deviceIDPattern.MatchString(p.DeviceID) {
				t.Fatalf("m.login.protocol %s", r.raw)
			}
			sent, err := r.nd.ProtocolSent(ctx)
			if err != nil || sent.DeviceID != p.DeviceID || sent.Homeserver != dev.URL() || sent.UserCode == "" {
				t.Fatalf("ProtocolSent %+v, %v", sent, err)
			}

			mc := r.g.account()
			if _, err := mc.Device(ctx, p.DeviceID); !matrix.IsNotFound(err) {
				t.Fatalf("GET /devices/%s before sign-in: %v, want 404", p.DeviceID, err)
			}
			r.g.send(ctx, msc4108.Simple{Type: msc4108.TypeProtocolAccepted})
			if !c.byDouble {
				code, err := dev.UserCodeFor(p.DeviceID)
				if err != nil || code != sent.UserCode {
					t.Fatalf("consent page waits for %q (%v); the new device shows %q", code, err, sent.UserCode)
				}
				if err := dev.Approve(code); err != nil {
					t.Fatal(err)
				}
			}
			r.g.receive(ctx, msc4108.TypeSuccess)
			if _, err := mc.Device(ctx, p.DeviceID); err != nil {
				t.Fatalf("GET /devices/%s after m.login.success: %v", p.DeviceID, err)
			}
			r.g.shareSecrets(ctx)

			res, err := r.nd.Wait()
			if err != nil {
				t.Fatalf("new device: %v (%+v)", err, res)
			}
			if res.Generation != c.g.gen || !res.Accepted || !res.SignedIn || !res.SuccessSent ||
				res.UserID != dev.UserID() || res.DeviceID != p.DeviceID || res.Homeserver != dev.URL() {
				t.Fatalf("result %+v", res)
			}
			s := res.Secrets
			if !s.CrossSigning() || !s.Backup || s.BackupVersion == "" || !s.Verified || s.Problem != "" {
				t.Fatalf("secrets report %+v", s)
			}
		})
	}
}

// TestNewDeviceReportsWrongSecrets: keys that do not match the account are
// reported as arrived but not verified.
func TestNewDeviceReportsWrongSecrets(t *testing.T) {
	ctx := newDeviceContext(t)
	dev := startDevServer(t, devserver.Config{})
	r := scan(t, ctx, dev, gOptions{gen: vocab.MSC4388}, NewDeviceConfig{}, false)
	r.g.send(ctx, msc4108.Simple{Type: msc4108.TypeProtocolAccepted})
	r.approve(ctx, t)
	r.g.receive(ctx, msc4108.TypeSuccess)
	r.g.send(ctx, msc4108.Secrets{Type: msc4108.TypeSecrets, CrossSigning: msc4108.CrossSigningSecret{
		MasterKey: randomKey(), SelfSigningKey: randomKey(), UserSigningKey: randomKey()}})
	res, err := r.nd.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if s := res.Secrets; !s.CrossSigning() || s.Backup || s.Verified || s.Problem == "" {
		t.Fatalf("secrets report %+v", s)
	}
}

// TestNewDeviceDenied: after a denial on the consent page the new device
// tells G, with js-sdk's m.login.failure user_cancelled or rust-sdk's
// m.login.declined.
func TestNewDeviceDenied(t *testing.T) {
	for _, declined := range []bool{false, true} {
		name := map[bool]string{false: "user_cancelled", true: "declined"}[declined]
		t.Run(name, func(t *testing.T) {
			eachGeneration(t, func(t *testing.T, gen vocab.Generation) {
				ctx := newDeviceContext(t)
				dev := startDevServer(t, devserver.Config{})
				r := scan(t, ctx, dev, gOptions{gen: gen}, NewDeviceConfig{Consent: dev, Script: NewDeviceScript{Deny: true, AnswerDeclined: declined}}, false)
				r.g.send(ctx, msc4108.Simple{Type: msc4108.TypeProtocolAccepted})
				if declined {
					r.g.receive(ctx, msc4108.TypeDeclined)
				} else {
					r.g.receiveFailure(ctx, msc4108.ReasonUserCancelled)
				}
				res, err := r.nd.Wait()
				if !errors.Is(err, ErrUserDenied) || res.SignedIn {
					t.Fatalf("new device: %v, %+v", err, res)
				}
				if _, ok := dev.Device(r.proto.DeviceID); ok {
					t.Fatal("a denied device exists")
				}
			})
		})
	}
}

// TestNewDeviceWithAnExistingDeviceID: G finds the proposed device already
// on the account and answers device_already_exists (MSC4108 step 4).
func TestNewDeviceWithAnExistingDeviceID(t *testing.T) {
	eachGeneration(t, func(t *testing.T, gen vocab.Generation) {
		ctx := newDeviceContext(t)
		dev := startDevServer(t, devserver.Config{})
		const taken = "TAKENDEV01"
		if _, err := dev.LoginDevice(taken); err != nil {
			t.Fatal(err)
		}
		r := scan(t, ctx, dev, gOptions{gen: gen}, NewDeviceConfig{DeviceID: taken}, false)
		if r.proto.DeviceID != taken {
			t.Fatalf("proposed %q", r.proto.DeviceID)
		}
		if _, err := r.g.account().Device(ctx, taken); err != nil {
			t.Fatalf("the taken device is not listed: %v", err)
		}
		r.g.send(ctx, msc4108.Failure{Type: msc4108.TypeFailure, Reason: msc4108.ReasonDeviceAlreadyExists})
		res, err := r.nd.Wait()
		var f *ExistingDeviceFailure
		if !errors.As(err, &f) || f.Reason != msc4108.ReasonDeviceAlreadyExists || res.Accepted {
			t.Fatalf("new device: %v, %+v", err, res)
		}
	})
}

// TestNewDeviceThatNeverSignsIn: SkipToken sends m.login.success without
// exchanging the device code, so no device exists; G answers
// device_not_found and the new device reports it.
func TestNewDeviceThatNeverSignsIn(t *testing.T) {
	eachGeneration(t, func(t *testing.T, gen vocab.Generation) {
		ctx := newDeviceContext(t)
		dev := startDevServer(t, devserver.Config{})
		r := scan(t, ctx, dev, gOptions{gen: gen}, NewDeviceConfig{Script: NewDeviceScript{SkipToken: true}}, false)
		r.g.send(ctx, msc4108.Simple{Type: msc4108.TypeProtocolAccepted})
		r.g.receive(ctx, msc4108.TypeSuccess)
		if _, err := r.g.account().Device(ctx, r.proto.DeviceID); !matrix.IsNotFound(err) {
			t.Fatalf("GET /devices/%s: %v, want 404", r.proto.DeviceID, err)
		}
		r.g.send(ctx, msc4108.Failure{Type: msc4108.TypeFailure, Reason: msc4108.ReasonDeviceNotFound})
		res, err := r.nd.Wait()
		var f *ExistingDeviceFailure
		if !errors.As(err, &f) || f.Reason != msc4108.ReasonDeviceNotFound || res.SignedIn || !res.SuccessSent {
			t.Fatalf("new device: %v, %+v", err, res)
		}
	})
}

// TestNewDeviceWrongProtocol: G answers a protocol other than the device
// grant with unsupported_protocol (MSC4108 step 4).
func TestNewDeviceWrongProtocol(t *testing.T) {
	ctx := newDeviceContext(t)
	dev := startDevServer(t, devserver.Config{})
	r := scan(t, ctx, dev, gOptions{gen: vocab.MSC4108v2024}, NewDeviceConfig{Script: NewDeviceScript{Protocol: "org.example.password"}}, false)
	if r.proto.Protocol != "org.example.password" {
		t.Fatalf("m.login.protocol %s", r.raw)
	}
	r.g.send(ctx, msc4108.Failure{Type: msc4108.TypeFailure, Reason: msc4108.ReasonUnsupportedProtocol})
	_, err := r.nd.Wait()
	var f *ExistingDeviceFailure
	if !errors.As(err, &f) || f.Reason != msc4108.ReasonUnsupportedProtocol {
		t.Fatalf("new device: %v", err)
	}
}

// TestNewDeviceTampers: a flipped ciphertext bit fails to open on G (both
// generations authenticate every message); G deletes the rendezvous and the
// new device sees it gone.
func TestNewDeviceTampers(t *testing.T) {
	for _, st := range NewDeviceSteps {
		t.Run(string(st), func(t *testing.T) {
			eachGeneration(t, func(t *testing.T, gen vocab.Generation) {
				ctx := newDeviceContext(t)
				dev := startDevServer(t, devserver.Config{})
				cfg := NewDeviceConfig{Consent: dev, Script: NewDeviceScript{TamperAt: st}}
				r := scan(t, ctx, dev, gOptions{gen: gen}, cfg, st == StepProtocol)
				if st == StepProtocol {
					if _, err := r.g.ch.Receive(ctx, vocab.PaceReply); !errors.Is(err, securechannel.ErrDecrypt) {
						t.Fatalf("G read %v, want ErrDecrypt", err)
					}
				} else {
					r.g.send(ctx, msc4108.Simple{Type: msc4108.TypeProtocolAccepted})
					if _, err := r.g.ch.Receive(ctx, vocab.PaceReply); !errors.Is(err, securechannel.ErrDecrypt) {
						t.Fatalf("G read %v, want ErrDecrypt", err)
					}
				}
				r.g.end(ctx)
				if _, err := r.nd.Wait(); !errors.Is(err, rendezvous.ErrExpired) {
					t.Fatalf("new device: %v, want the rendezvous gone", err)
				}
			})
		})
	}
}

// TestNewDeviceStopsResponding: a silent new device leaves G waiting until
// G gives up by itself.
func TestNewDeviceStopsResponding(t *testing.T) {
	for _, st := range NewDeviceSteps {
		t.Run(string(st), func(t *testing.T) {
			eachGeneration(t, func(t *testing.T, gen vocab.Generation) {
				ctx := newDeviceContext(t)
				dev := startDevServer(t, devserver.Config{})
				r := scan(t, ctx, dev, gOptions{gen: gen}, NewDeviceConfig{Script: NewDeviceScript{SilentAt: st}}, st == StepProtocol)
				if st == StepSuccess {
					r.g.send(ctx, msc4108.Simple{Type: msc4108.TypeProtocolAccepted})
				}
				short, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
				defer cancel()
				if raw, err := r.g.ch.Receive(short, vocab.PaceReply); !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("G read %s, %v; want nothing", raw, err)
				}
				if st == StepSuccess {
					if _, err := r.dev.UserCodeFor(r.proto.DeviceID); err != nil {
						t.Fatalf("the request is not pending: %v", err)
					}
				}
				r.g.end(ctx)
				res, err := r.nd.Wait()
				if !errors.Is(err, rendezvous.ErrExpired) || res.SignedIn || res.SuccessSent {
					t.Fatalf("new device: %v, %+v", err, res)
				}
			})
		})
	}
}

// TestNewDeviceLetsTheCodeExpire: nobody approves; the device code
// expires and the new device sends authorization_expired (MSC4108 step 6).
func TestNewDeviceLetsTheCodeExpire(t *testing.T) {
	ctx := newDeviceContext(t)
	dev := startDevServer(t, devserver.Config{DeviceCodeLifetime: 2 * time.Second})
	r := scan(t, ctx, dev, gOptions{gen: vocab.MSC4388}, NewDeviceConfig{}, false)
	r.g.send(ctx, msc4108.Simple{Type: msc4108.TypeProtocolAccepted})
	r.g.receiveFailure(ctx, msc4108.ReasonAuthorizationExpired)
	var sf *SentFailureError
	if _, err := r.nd.Wait(); !errors.As(err, &sf) || sf.Reason != msc4108.ReasonAuthorizationExpired {
		t.Fatalf("new device: %v", err)
	}
}

// TestNewDeviceScriptedFailureAndUnexpected: FailAt and UnexpectedAt put a
// failure or a message of an unknown type in the step's place.
func TestNewDeviceScriptedFailureAndUnexpected(t *testing.T) {
	t.Run("fail at protocol", func(t *testing.T) {
		t.Parallel()
		ctx := newDeviceContext(t)
		dev := startDevServer(t, devserver.Config{})
		r := scan(t, ctx, dev, gOptions{gen: vocab.MSC4388}, NewDeviceConfig{Script: NewDeviceScript{FailAt: StepProtocol, FailReason: msc4108.ReasonUserCancelled}}, true)
		r.g.receiveFailure(ctx, msc4108.ReasonUserCancelled)
		var sf *SentFailureError
		if _, err := r.nd.Wait(); !errors.As(err, &sf) || sf.Reason != msc4108.ReasonUserCancelled {
			t.Fatalf("new device: %v", err)
		}
	})
	t.Run("unexpected at success", func(t *testing.T) {
		t.Parallel()
		ctx := newDeviceContext(t)
		dev := startDevServer(t, devserver.Config{})
		r := scan(t, ctx, dev, gOptions{gen: vocab.MSC4108v2024}, NewDeviceConfig{Consent: dev, Script: NewDeviceScript{UnexpectedAt: StepSuccess}}, false)
		r.g.send(ctx, msc4108.Simple{Type: msc4108.TypeProtocolAccepted})
		r.g.receive(ctx, typeUnexpected)
		r.g.send(ctx, msc4108.Failure{Type: msc4108.TypeFailure, Reason: msc4108.ReasonUnexpectedMessageReceived})
		var f *ExistingDeviceFailure
		if _, err := r.nd.Wait(); !errors.As(err, &f) || f.Reason != msc4108.ReasonUnexpectedMessageReceived {
			t.Fatalf("new device: %v", err)
		}
	})
	// G sending something else than m.login.secrets after m.login.success
	// gets unexpected_message_received back, as from js-sdk.
	t.Run("G unexpected instead of secrets", func(t *testing.T) {
		t.Parallel()
		ctx := newDeviceContext(t)
		dev := startDevServer(t, devserver.Config{})
		r := scan(t, ctx, dev, gOptions{gen: vocab.MSC4388}, NewDeviceConfig{Consent: dev}, false)
		r.g.send(ctx, msc4108.Simple{Type: msc4108.TypeProtocolAccepted})
		r.g.receive(ctx, msc4108.TypeSuccess)
		r.g.send(ctx, msc4108.Simple{Type: msc4108.TypeProtocolAccepted})
		r.g.receiveFailure(ctx, msc4108.ReasonUnexpectedMessageReceived)
		var ue *UnexpectedMessageError
		if res, err := r.nd.Wait(); !errors.As(err, &ue) || res.Secrets != nil {
			t.Fatalf("new device: %v", err)
		}
	})
}

func TestNewDeviceRefusesOtherCodes(t *testing.T) {
	srv := startDevServer(t, devserver.Config{})
	qr, err := qrcode.Payload{Generation: vocab.MSC4388, Intent: qrcode.IntentNewDevice,
		RendezvousID: "x", BaseURL: srv.URL()}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := RunNewDevice(t.Context(), NewDeviceConfig{}, qr); !errors.Is(err, ErrNotExistingDeviceCode) {
		t.Fatalf("RunNewDevice = %v, want ErrNotExistingDeviceCode", err)
	}
	if _, err := RunNewDevice(t.Context(), NewDeviceConfig{}, []byte("not a QR payload")); err == nil {
		t.Fatal("RunNewDevice accepted garbage")
	}
	if _, err := RunNewDevice(t.Context(), NewDeviceConfig{Script: NewDeviceScript{Deny: true}}, qr); err == nil {
		t.Fatal("Deny without Consent accepted")
	}
	// A handle whose run ends at once reports the error instead of a code.
	nd := StartNewDevice(t.Context(), NewDeviceConfig{}, qr)
	if _, err := nd.CheckCode(t.Context()); !errors.Is(err, ErrNotExistingDeviceCode) {
		t.Fatalf("CheckCode = %v", err)
	}
}

func TestNewDeviceScriptValidate(t *testing.T) {
	for _, s := range []NewDeviceScript{
		{FailAt: StepProtocol},
		{FailReason: "x"},
		{TamperAt: StepSecrets},
		{SilentAt: "nowhere"},
		{Delay: -time.Second},
		{SkipToken: true, Deny: true},
		{FailOutOfTurnAfter: StepSuccess},
		{FailOutOfTurnAfter: StepSecrets, FailReason: "x"},
		{FailOutOfTurnAfter: StepSuccess, FailAt: StepProtocol, FailReason: "x"},
	} {
		if s.Validate() == nil {
			t.Errorf("%+v validated", s)
		}
	}
	if err := (NewDeviceScript{FailOutOfTurnAfter: StepProtocol, FailReason: "x"}).Validate(); err != nil {
		t.Error(err)
	}
	for _, name := range []string{"protocol", "success"} {
		if _, err := ParseNewDeviceStep(name); err != nil {
			t.Error(err)
		}
	}
}

func TestNewDeviceIDString(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := NewDeviceIDString()
		if !deviceIDPattern.MatchString(id) || seen[id] {
			t.Fatalf("device ID %q (seen before: %v)", id, seen[id])
		}
		seen[id] = true
	}
}
