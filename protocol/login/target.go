package login

import (
	"context"
	"errors"
	"strings"

	"github.com/qrlogin/qrlogin/protocol/msc4108"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// target is where the QR code's rendezvous lives and which generations
// the server offers, in the order we prefer them.
type target struct {
	baseURL       string // the homeserver's client-server base URL
	rendezvousURL string // an explicit rendezvous server, or ""
	generation    vocab.Generation
	offered       []vocab.Generation
}

func (t *target) rendezvousBase() string {
	if t.rendezvousURL != "" {
		return strings.TrimRight(t.rendezvousURL, "/")
	}
	return t.baseURL
}

// other returns the other offered generation, for "my phone can't read
// this code".
func (t *target) other(g vocab.Generation) (vocab.Generation, bool) {
	for _, o := range t.offered {
		if o != g {
			return o, true
		}
	}
	return "", false
}

// resolveTarget resolves the homeserver the user named and picks the
// generation by preference and by what the server offers, asking about
// each generation once (rendezvous.Choose); the other generation, if the
// server offers it too, is kept for "my phone can't read this code".
func (f *Flow) resolveTarget(ctx context.Context) (*target, error) {
	if f.cfg.Homeserver == "" {
		return nil, errors.New("login: no homeserver given")
	}
	base, err := rendezvous.ResolveHomeserver(ctx, f.cfg.HTTP, f.cfg.Homeserver)
	if err != nil {
		return nil, err
	}
	t := &target{baseURL: base}
	if f.cfg.RendezvousServer != "" {
		if _, err := rendezvous.CheckURL(f.cfg.RendezvousServer); err != nil {
			return nil, err
		}
		t.rendezvousURL = f.cfg.RendezvousServer
	}
	pref, err := vocab.ParsePreference(f.cfg.Preference)
	if err != nil {
		return nil, err
	}
	choice, err := rendezvous.Choose(ctx, pref, rendezvous.ChooseOptions{
		HTTPClient: f.cfg.HTTP, HomeserverURL: base, RendezvousServerURL: t.rendezvousURL, MSC4388Path: f.msc4388Path(),
	})
	if err != nil {
		return nil, err
	}
	t.generation = choice.Generation
	t.offered = choice.Offered
	return t, nil
}

func (f *Flow) msc4388Path() rendezvous.APIPath {
	if f.cfg.Variant == vocab.VariantMSCText {
		return rendezvous.PathStable
	}
	return rendezvous.PathUnstable
}

// homeserverFromPhone finds the homeserver base URL the phone is signed in
// to: base_url (current MSC4108) or homeserver (2024: a full URL from
// rust-sdk, a bare server name from Element Web,
// docs/protocol-divergences.md "base_url vs homeserver").
func (f *Flow) homeserverFromPhone(ctx context.Context, t *target, m msc4108.Protocols) (string, error) {
	given := m.BaseURL
	if given == "" {
		given = m.Homeserver
	}
	if given == "" {
		return t.baseURL, nil
	}
	if strings.Contains(given, "://") {
		u, err := rendezvous.CheckURL(given)
		if err != nil {
			return "", err
		}
		return strings.TrimRight(u.String(), "/"), nil
	}
	return rendezvous.ResolveHomeserver(ctx, f.cfg.HTTP, given)
}
