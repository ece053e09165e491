package login

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
)

// Preferences for the generation of the QR code this desktop shows.
const (
	PreferAuto    = "auto"
	PreferMSC4388 = "msc4388"
	Prefer2024    = "msc4108-2024"
)

// autoOrder is the order "auto" tries the generations in. Released phones
// complete only the 2024 stack today (REFERENCE-IMPLEMENTATIONS.md 0), so
// it comes first; when they complete MSC4388, swap these two entries.
var autoOrder = []securechannel.Generation{securechannel.MSC4108v2024, securechannel.MSC4388}

// target is where the QR code's rendezvous lives and which generations
// the server offers, in the order we prefer them.
type target struct {
	baseURL       string // the homeserver's client-server base URL
	rendezvousURL string // an explicit rendezvous server, or ""
	generation    securechannel.Generation
	offered       []securechannel.Generation
}

func (t *target) rendezvousBase() string {
	if t.rendezvousURL != "" {
		return strings.TrimRight(t.rendezvousURL, "/")
	}
	return t.baseURL
}

// other returns the other offered generation, for "my phone can't read
// this code".
func (t *target) other(g securechannel.Generation) (securechannel.Generation, bool) {
	for _, o := range t.offered {
		if o != g {
			return o, true
		}
	}
	return "", false
}

// UnsupportedError: the server does not offer sign-in with QR for a new
// device. The message names the server and what it lacks.
type UnsupportedError struct {
	Server string
	Reason string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%s does not offer sign-in with QR for a new device: %s", e.Server, e.Reason)
}

// resolveTarget resolves the homeserver the user named and finds which
// generations its rendezvous offers (MSC4388 discovery, and the 2024
// generation's /versions flag).
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
	server := hostOf(t.rendezvousBase())

	order := autoOrder
	switch f.cfg.Preference {
	case "", PreferAuto:
	case PreferMSC4388:
		order = []securechannel.Generation{securechannel.MSC4388}
	case Prefer2024:
		order = []securechannel.Generation{securechannel.MSC4108v2024}
	default:
		return nil, fmt.Errorf("login: unknown protocol preference %q", f.cfg.Preference)
	}

	var reasons []string
	for _, gen := range order {
		ok, why, err := f.offers(ctx, t, gen)
		if err != nil {
			return nil, err
		}
		if ok {
			t.offered = append(t.offered, gen)
		} else {
			reasons = append(reasons, why)
		}
	}
	if len(t.offered) == 0 {
		return nil, &UnsupportedError{Server: server, Reason: strings.Join(reasons, "; ")}
	}
	t.generation = t.offered[0]
	return t, nil
}

// offers reports whether the rendezvous server offers gen to a device that
// is not signed in, and if not, why in words.
func (f *Flow) offers(ctx context.Context, t *target, gen securechannel.Generation) (bool, string, error) {
	switch gen {
	case securechannel.MSC4108v2024:
		if t.rendezvousURL != "" {
			// A standalone rendezvous server (Element Web's fallback kind) has
			// no /versions; creating a session is the test, done when the QR
			// code is made.
			return true, "", nil
		}
		ok, err := rendezvous.Discover2024(ctx, f.cfg.HTTP, t.baseURL)
		if err != nil {
			return false, "", err
		}
		return ok, "it does not advertise the 2024 sign-in with QR (org.matrix.msc4108)", nil
	default:
		path := rendezvous.PathUnstable
		if f.cfg.Variant == securechannel.VariantMSCText {
			path = rendezvous.PathStable
		}
		c, err := rendezvous.NewClient(rendezvous.ClientConfig{BaseURL: t.rendezvousBase(), HTTPClient: f.cfg.HTTP, Path: path})
		if err != nil {
			return false, "", err
		}
		ok, err := c.Discover(ctx)
		switch {
		case errors.Is(err, rendezvous.ErrNeedsAccount):
			return false, "its MSC4388 sign-in with QR works only for devices that are already signed in", nil
		case errors.Is(err, rendezvous.ErrNotEnabled):
			return false, "it does not offer MSC4388 sign-in with QR", nil
		case err != nil:
			return false, "", err
		case !ok:
			return false, "its MSC4388 sign-in with QR works only for devices that are already signed in", nil
		}
		return true, "", nil
	}
}

// homeserverFromPhone finds the homeserver base URL the phone is signed in
// to: base_url (current MSC4108) or homeserver (2024: a full URL from
// rust-sdk, a bare server name from Element Web, REFERENCE-IMPLEMENTATIONS
// 3.4 and 7 #10).
func (f *Flow) homeserverFromPhone(ctx context.Context, t *target, m protocolsMessage) (string, error) {
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

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return raw
}
