package login

import (
	"context"
	"errors"
	"net/http"
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
// generation by preference and by what the server offers (chooseTarget).
func (f *Flow) resolveTarget(ctx context.Context) (*target, error) {
	if f.cfg.Homeserver == "" {
		return nil, errors.New("login: no homeserver given")
	}
	base, err := rendezvous.ResolveHomeserver(ctx, f.cfg.HTTP, f.cfg.Homeserver)
	if err != nil {
		return nil, err
	}
	return chooseTarget(ctx, targetQuery{
		http: f.cfg.HTTP, baseURL: base, rendezvousServer: f.cfg.RendezvousServer,
		preference: f.cfg.Preference, variant: f.cfg.Variant,
	})
}

// targetQuery is what chooseTarget asks the server about.
type targetQuery struct {
	http             *http.Client
	baseURL          string // the homeserver's client-server base URL
	rendezvousServer string // an explicit rendezvous server, or ""
	preference       string
	variant          vocab.Variant
	// token authenticates the MSC4388 discovery (servers that offer
	// rendezvous sessions only to signed-in devices); "" for a new device.
	token rendezvous.BearerToken
	// onlyPreferred: no other generation is offered for "my phone can't
	// read this code" (rendezvous.ChooseOptions.OnlyPreferred).
	onlyPreferred bool
}

// chooseTarget picks the generation by preference and by what the server
// offers, asking about each generation once (rendezvous.Choose); the other
// generation, if the server offers it too, is kept for "my phone can't
// read this code".
func chooseTarget(ctx context.Context, q targetQuery) (*target, error) {
	t := &target{baseURL: q.baseURL}
	if q.rendezvousServer != "" {
		if _, err := rendezvous.CheckURL(q.rendezvousServer); err != nil {
			return nil, err
		}
		t.rendezvousURL = q.rendezvousServer
	}
	pref, err := vocab.ParsePreference(q.preference)
	if err != nil {
		return nil, err
	}
	choice, err := rendezvous.Choose(ctx, pref, rendezvous.ChooseOptions{
		HTTPClient: q.http, HomeserverURL: q.baseURL, RendezvousServerURL: t.rendezvousURL,
		MSC4388Path: msc4388Path(q.variant), AccessToken: q.token, OnlyPreferred: q.onlyPreferred,
	})
	if err != nil {
		return nil, err
	}
	t.generation = choice.Generation
	t.offered = choice.Offered
	return t, nil
}

// msc4388Path is the MSC4388 API path that goes with a channel variant:
// the MSC text's stable path, or the unstable one the reference servers
// serve.
func msc4388Path(v vocab.Variant) rendezvous.APIPath {
	if v == vocab.VariantMSCText {
		return rendezvous.PathStable
	}
	return rendezvous.PathUnstable
}

// homeserverFromPhone finds the homeserver the phone is signed in to:
// base_url (current MSC4108) or homeserver (2024: a full URL from rust-sdk,
// a bare server name from Element Web, docs/protocol-divergences.md
// "base_url vs homeserver"), and
// checks that it is the one the user chose. A URL equal to the chosen base
// URL after normalising is taken as is; otherwise what the phone named is
// resolved like a typed server name (its /.well-known/matrix/client), so
// "example.org" and its https://matrix.example.org are one server. Any
// other server is a *HomeserverMismatchError. Nothing named means the
// chosen server.
func (f *Flow) homeserverFromPhone(ctx context.Context, t *target, m msc4108.Protocols) (string, error) {
	given := strings.TrimSpace(m.BaseURL)
	if given == "" {
		given = strings.TrimSpace(m.Homeserver)
	}
	if given == "" {
		return t.baseURL, nil
	}
	if strings.Contains(given, "://") {
		u, err := rendezvous.CheckURL(given)
		if err != nil {
			return "", err
		}
		if sameBaseURL(u.String(), t.baseURL) {
			return t.baseURL, nil
		}
	}
	resolved, err := rendezvous.ResolveHomeserver(ctx, f.cfg.HTTP, given)
	if err != nil {
		return "", err
	}
	if !sameBaseURL(resolved, t.baseURL) {
		return "", &HomeserverMismatchError{Chosen: t.baseURL, Phone: resolved}
	}
	return t.baseURL, nil
}
