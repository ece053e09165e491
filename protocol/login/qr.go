package login

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/qrlogin/qrlogin/protocol/internal/httpx"
	"github.com/qrlogin/qrlogin/protocol/qrcode"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// shownQR is one QR code on screen: a fresh rendezvous session, a fresh
// ephemeral key, and the payload that carries both.
type shownQR struct {
	sess      rendezvous.Session
	bind      securechannel.Binding
	generator *securechannel.Generator
	payload   []byte
}

// qrDisplay is what showing QR codes needs, in either role: this device as
// the new device (intent 0x00, 2024 mode 0x03) or as the existing device
// (intent 0x01, 2024 mode 0x04, which also names the account's server).
type qrDisplay struct {
	intent qrcode.Intent
	// serverName is what a 2024 mode 0x04 QR code names as the account's
	// homeserver; unused otherwise.
	serverName string
	variant    vocab.Variant
	http       *http.Client
	poll       rendezvous.PollConfig
	// token returns the access token that authenticates the MSC4388 create
	// on servers that allow it only to signed-in devices; nil for the new
	// device, which has none.
	token func(context.Context) (string, error)
	// regen receives SwitchGeneration's requests.
	regen <-chan struct{}
	emit  func(Event)
}

// qrDisplay is the new device's: intent 0x00, no token.
func (f *Flow) qrDisplay() *qrDisplay {
	return &qrDisplay{intent: qrcode.IntentNewDevice, variant: f.cfg.Variant, http: f.cfg.HTTP, poll: f.cfg.Poll, regen: f.regen, emit: f.emit}
}

// newQR creates the rendezvous session and the QR payload for one
// generation (MSC4388 steps 1-3; the 2024 QR carries the session URL).
func (d *qrDisplay) newQR(ctx context.Context, t *target, gen vocab.Generation) (*shownQR, error) {
	g, err := securechannel.NewGenerator(gen, d.variant)
	if err != nil {
		return nil, err
	}
	var key [qrcode.KeySize]byte
	copy(key[:], g.PublicKey())
	p := qrcode.Payload{Generation: gen, Intent: d.intent, PublicKey: key}
	q := &shownQR{generator: g}

	switch gen {
	case vocab.MSC4388:
		var token string
		if d.token != nil {
			if token, err = d.token(ctx); err != nil {
				return nil, fmt.Errorf("login: the account's access token: %w", err)
			}
		}
		c, err := rendezvous.NewClient(rendezvous.ClientConfig{
			BaseURL: t.rendezvousBase(), HTTPClient: d.http, Path: msc4388Path(d.variant), Poll: d.poll,
			AccessToken: rendezvous.BearerToken(token),
		})
		if err != nil {
			return nil, err
		}
		s, err := c.Create(ctx)
		if err != nil {
			return nil, fmt.Errorf("login: creating the sign-in session: %w", err)
		}
		q.sess = s
		q.bind = securechannel.Binding{BaseURL: s.BaseURL(), RendezvousID: s.ID()}
		p.Prefix = qrcode.PrefixFor(d.variant)
		p.RendezvousID = s.ID()
		p.BaseURL = s.BaseURL()
	default:
		c, err := rendezvous.NewETagClient(rendezvous.ETagConfig{
			HomeserverURL: t.baseURL, HTTPClient: d.http, Poll: d.poll,
		})
		if err != nil {
			return nil, err
		}
		var s *rendezvous.ETagSession
		if t.rendezvousURL != "" {
			s, err = c.CreateAt(ctx, t.rendezvousURL)
		} else {
			s, err = c.Create(ctx)
		}
		if err != nil {
			return nil, fmt.Errorf("login: creating the sign-in session: %w", err)
		}
		q.sess = s
		p.RendezvousURL = s.URL()
		if d.intent == qrcode.IntentExistingDevice {
			p.ServerName = d.serverName
		}
	}
	q.payload, err = p.Encode()
	if err != nil {
		deleteQuietly(q.sess)
		return nil, err
	}
	return q, nil
}

// SwitchGeneration asks for a fresh QR code in the other protocol
// generation ("my phone can't read this code"). It only has an effect
// while the QR code is showing.
func (f *Flow) SwitchGeneration() { requestSwitch(f.regen) }

// requestSwitch asks a QR loop for the other generation, without waiting;
// a request already pending is enough.
func requestSwitch(regen chan<- struct{}) {
	select {
	case regen <- struct{}{}:
	default:
	}
}

// showQRUntilScanned shows QR codes until the phone scanned one and
// keeps the session the channel runs over.
func (f *Flow) showQRUntilScanned(ctx context.Context, target *target) (*securechannel.Channel, error) {
	ch, sess, err := f.qrDisplay().untilScanned(ctx, target)
	if err != nil {
		return nil, err
	}
	f.sess = sess
	return ch, nil
}

// untilScanned creates a rendezvous and QR code, shows it, and waits for
// the other device's LoginInitiate. A session that expires before a scan
// is replaced by a fresh one (new rendezvous, new key, new QR code); the
// user may also ask for the other generation. A session that ends at once
// is faulty (faultySession): the next one comes after a pause, and after
// maxFaultySessions of them in a row the sign-in ends with
// ErrRendezvousBroken, rather than creating sessions as fast as the server
// answers.
func (d *qrDisplay) untilScanned(ctx context.Context, target *target) (*securechannel.Channel, rendezvous.Session, error) {
	gen := target.generation
	faulty := 0
	for {
		q, err := d.newQR(ctx, target, gen)
		if err != nil {
			return nil, nil, err
		}
		created, announced := time.Now(), q.sess.ExpiresAt()
		// A request made while no QR code, or an earlier one, was showing
		// is not about this one: only what comes after QRReady counts.
		select {
		case <-d.regen:
		default:
		}
		alt, _ := target.other(gen)
		d.emit(QRReady{Protocol: string(gen), Payload: q.payload, ExpiresAt: announced, Alternative: string(alt)})

		scanCtx, cancelScan := context.WithCancel(ctx)
		switched := make(chan struct{})
		stop := make(chan struct{})
		go func() {
			select {
			case <-d.regen:
				close(switched)
				cancelScan()
			case <-stop:
			}
		}()
		ch, err := q.generator.Accept(scanCtx, q.sess, q.bind)
		close(stop)
		cancelScan()
		if err == nil {
			return ch, q.sess, nil
		}
		deleteQuietly(q.sess)
		select {
		case <-switched:
			if other, ok := target.other(gen); ok {
				gen = other
			}
			faulty = 0
			continue
		default:
		}
		if ctx.Err() != nil {
			return nil, nil, ErrCancelled
		}
		if !errors.Is(err, rendezvous.ErrExpired) && !errors.Is(err, context.DeadlineExceeded) {
			return nil, nil, err
		}
		// Nobody scanned in time: show a fresh code.
		if !faultySession(created, announced, time.Now()) {
			faulty = 0
			continue
		}
		faulty++
		if faulty >= maxFaultySessions {
			return nil, nil, fmt.Errorf("%w: %d sessions in a row ended at once (the last after %v of the %v announced: %v)",
				ErrRendezvousBroken, faulty, time.Since(created).Round(time.Millisecond), announced.Sub(created).Round(time.Second), err)
		}
		if httpx.Sleep(ctx, faultyPause<<(faulty-1)) != nil {
			return nil, nil, ErrCancelled
		}
	}
}

// What the QR loop does about sessions that end at once: a pause before
// the next one, doubled each time, and an error after maxFaultySessions in
// a row.
const (
	maxFaultySessions = 3
	faultyPause       = 500 * time.Millisecond
	// faultyLife: a session that ends sooner than this after its creation
	// (and before half its announced life) was never scannable.
	faultyLife = 5 * time.Second
)

// faultySession reports whether a session created at created, announced
// to expire at announced, ended at ended so soon that nobody could have
// scanned it: within faultyLife of its creation and before half its
// announced life, as when the server answers 404 to the first read or
// announces an expiry it does not keep (MSC4388 "Expiry"). A session that
// only ends somewhat early (a 2024 server that sends no Expires header,
// where the announced expiry is this device's guess) is not faulty: its
// successors cannot come fast.
func faultySession(created, announced, ended time.Time) bool {
	return ended.Sub(created) < min(faultyLife, announced.Sub(created)/2)
}
