package login

import (
	"context"
	"errors"
	"fmt"

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

// newQR creates the rendezvous session and the QR payload for one
// generation (MSC4388 steps 1-3; the 2024 QR carries the session URL).
func (f *Flow) newQR(ctx context.Context, t *target, gen vocab.Generation) (*shownQR, error) {
	g, err := securechannel.NewGenerator(gen, f.cfg.Variant)
	if err != nil {
		return nil, err
	}
	var key [qrcode.KeySize]byte
	copy(key[:], g.PublicKey())
	p := qrcode.Payload{Generation: gen, Intent: qrcode.IntentNewDevice, PublicKey: key}
	q := &shownQR{generator: g}

	switch gen {
	case vocab.MSC4388:
		c, err := rendezvous.NewClient(rendezvous.ClientConfig{
			BaseURL: t.rendezvousBase(), HTTPClient: f.cfg.HTTP, Path: f.msc4388Path(), Poll: f.cfg.Poll,
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
		p.Prefix = qrcode.PrefixFor(f.cfg.Variant)
		p.RendezvousID = s.ID()
		p.BaseURL = s.BaseURL()
	default:
		c, err := rendezvous.NewETagClient(rendezvous.ETagConfig{
			HomeserverURL: t.baseURL, HTTPClient: f.cfg.HTTP, Poll: f.cfg.Poll,
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
func (f *Flow) SwitchGeneration() {
	select {
	case f.regen <- struct{}{}:
	default:
	}
}

// showQRUntilScanned creates a rendezvous and QR code, shows it, and waits
// for the phone's LoginInitiate. A session that expires before a scan is
// replaced by a fresh one (new rendezvous, new key, new QR code); the user
// may also ask for the other generation.
func (f *Flow) showQRUntilScanned(ctx context.Context, target *target) (*securechannel.Channel, error) {
	gen := target.generation
	for {
		q, err := f.newQR(ctx, target, gen)
		if err != nil {
			return nil, err
		}
		alt, _ := target.other(gen)
		f.emit(QRReady{Protocol: string(gen), Payload: q.payload, ExpiresAt: q.sess.ExpiresAt(), Alternative: string(alt)})

		scanCtx, cancelScan := context.WithCancel(ctx)
		switched := make(chan struct{})
		stop := make(chan struct{})
		go func() {
			select {
			case <-f.regen:
				close(switched)
				cancelScan()
			case <-stop:
			}
		}()
		ch, err := q.generator.Accept(scanCtx, q.sess, q.bind)
		close(stop)
		cancelScan()
		if err == nil {
			f.sess = q.sess
			return ch, nil
		}
		deleteQuietly(q.sess)
		select {
		case <-switched:
			if other, ok := target.other(gen); ok {
				gen = other
			}
			continue
		default:
		}
		if ctx.Err() != nil {
			return nil, ErrCancelled
		}
		if errors.Is(err, rendezvous.ErrExpired) || errors.Is(err, context.DeadlineExceeded) {
			continue // nobody scanned in time: show a fresh code
		}
		return nil, err
	}
}
