package rendezvous

// Choosing the protocol generation for a QR code that this (new) device
// generates: the 2024 MSC4108 stack or MSC4388, by preference and by what
// the server offers (MSC4108 "Discoverability of the capability", "New
// device generating the QR code"; MSC4388 "GET /_matrix/client/v1/rendezvous";
// docs/protocol-divergences.md for why 2024 comes first).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// ChooseOptions says where Choose looks.
type ChooseOptions struct {
	// HTTPClient sends the probes; nil means a default client.
	HTTPClient *http.Client
	// HomeserverURL is the homeserver base URL (see ResolveHomeserver).
	HomeserverURL string
	// RendezvousServerURL, when set, is an explicit rendezvous server to use
	// instead of the homeserver's own rendezvous API.
	RendezvousServerURL string
	// AccessToken authenticates the MSC4388 discovery when this device
	// already has one (servers in "authenticated" mode).
	AccessToken BearerToken
	// MSC4388Path selects the unstable (default) or stable MSC4388 path.
	MSC4388Path APIPath
	// OnlyPreferred leaves out the probes for Choice.Offered: it lists the
	// chosen generation alone, for a caller that could not use another.
	OnlyPreferred bool
}

// Choice is what Choose found out about the server.
type Choice struct {
	// Generation is the one for the QR code: the first generation of the
	// preference's order that the server offers.
	Generation vocab.Generation
	// Offered lists every generation the server offers, Generation first,
	// for "my phone can't read this code".
	Offered []vocab.Generation
}

// UnsupportedError says that the server offers neither wanted generation,
// in words a user can act on.
type UnsupportedError struct {
	// Server is the host name the message names.
	Server string
	// NeedsAccount is true when the server would offer QR sign-in, but
	// only to devices that are already signed in.
	NeedsAccount bool
	// Missing lists, per generation tried, what the server lacks.
	Missing []string
}

func (e *UnsupportedError) Error() string {
	if e.NeedsAccount {
		return e.Server + " allows sign-in with QR only from devices that are already signed in"
	}
	return e.Server + " does not offer sign-in with QR: " + strings.Join(e.Missing, "; ")
}

// Is lets errors.Is(err, ErrNeedsAccount) and errors.Is(err, ErrNotEnabled)
// classify the error.
func (e *UnsupportedError) Is(target error) bool {
	if e.NeedsAccount {
		return target == ErrNeedsAccount
	}
	return target == ErrNotEnabled
}

// probe is one generation's answer: offered, or why not, or a failure that
// says nothing about support (network, context).
type probe struct {
	offered      bool
	needsAccount bool
	missing      string
	err          error
}

// Choose probes the server once per generation and picks the generation
// for a new-device QR code. The generations of pref's order are probed in
// that order until one is offered: 2024 when /versions advertises
// org.matrix.msc4108 (or, with an explicit rendezvous server, a create
// there succeeds), MSC4388 when its discovery says create_available. A
// named preference is checked the same way (fail fast). When nothing fits
// the error is an *UnsupportedError, unless a probe failed for another
// reason (network, context), which is then returned.
//
// Once a generation is chosen, each generation not probed yet is probed
// once more (a failure there only leaves it out of Choice.Offered), so that
// a sign-in never asks the same server about the same generation twice:
// with an explicit rendezvous server a 2024 probe creates a real session.
func Choose(ctx context.Context, pref vocab.Preference, opts ChooseOptions) (Choice, error) {
	order := pref.Order()
	if len(order) == 0 {
		return Choice{}, fmt.Errorf("rendezvous: unknown protocol preference %q", string(pref))
	}
	server := opts.RendezvousServerURL
	if server == "" {
		server = opts.HomeserverURL
	}
	if server == "" {
		return Choice{}, errors.New("rendezvous: no homeserver or rendezvous server to create the session on")
	}
	unsupported := &UnsupportedError{Server: hostOf(server)}
	var failures []error
	var probed []vocab.Generation
	var choice Choice
	for _, gen := range order {
		p := probeGeneration(ctx, gen, opts, server)
		probed = append(probed, gen)
		if p.offered {
			choice.Generation = gen
			break
		}
		if p.err != nil {
			failures = append(failures, fmt.Errorf("%s: %w", gen, p.err))
			continue
		}
		unsupported.NeedsAccount = unsupported.NeedsAccount || p.needsAccount
		unsupported.Missing = append(unsupported.Missing, p.missing)
	}
	if choice.Generation == "" {
		if ctx.Err() != nil {
			return Choice{}, context.Cause(ctx)
		}
		if len(failures) > 0 {
			return Choice{}, fmt.Errorf("rendezvous: could not check whether %s offers sign-in with QR: %w",
				unsupported.Server, errors.Join(failures...))
		}
		return Choice{}, unsupported
	}
	choice.Offered = []vocab.Generation{choice.Generation}
	if opts.OnlyPreferred {
		return choice, nil
	}
	// Auto's order names every generation there is.
	for _, gen := range vocab.Auto.Order() {
		if slices.Contains(probed, gen) {
			continue
		}
		if p := probeGeneration(ctx, gen, opts, server); p.offered {
			choice.Offered = append(choice.Offered, gen)
		}
	}
	return choice, nil
}

// probeGeneration asks server (or, for 2024 without an explicit rendezvous
// server, the homeserver) whether it offers gen.
func probeGeneration(ctx context.Context, gen vocab.Generation, opts ChooseOptions, server string) probe {
	switch gen {
	case vocab.MSC4108v2024:
		return probe2024(ctx, opts)
	case vocab.MSC4388:
		return probeMSC4388(ctx, opts, server)
	}
	return probe{err: fmt.Errorf("rendezvous: unknown generation %q", gen)}
}

// probe2024 checks the 2024 stack: the homeserver's /versions flag, or, for
// an explicit rendezvous server (which has no /versions to ask), a create
// that is cancelled at once.
func probe2024(ctx context.Context, opts ChooseOptions) probe {
	if opts.RendezvousServerURL != "" {
		c, err := NewETagClient(ETagConfig{HTTPClient: opts.HTTPClient})
		if err != nil {
			return probe{err: err}
		}
		s, err := c.CreateAt(ctx, opts.RendezvousServerURL)
		switch {
		case err == nil:
			_ = s.Cancel(ctx) // best effort: the probe session is of no use
			return probe{offered: true}
		case errors.Is(err, ErrNotEnabled):
			return probe{missing: "no MSC4108 (2024) rendezvous endpoint"}
		case errors.Is(err, ErrNeedsAccount):
			return probe{needsAccount: true, missing: "MSC4108 (2024) rendezvous needs a signed-in device"}
		}
		return probe{err: err}
	}
	ok, err := Discover2024(ctx, opts.HTTPClient, opts.HomeserverURL)
	switch {
	case errors.Is(err, ErrNotEnabled):
		// No /versions at all (404): not a homeserver that offers it.
		return probe{missing: "it does not advertise MSC4108 (org.matrix.msc4108)"}
	case err != nil:
		return probe{err: err}
	case !ok:
		return probe{missing: "it does not advertise MSC4108 (org.matrix.msc4108)"}
	}
	return probe{offered: true}
}

// probeMSC4388 asks the MSC4388 discovery endpoint of server.
func probeMSC4388(ctx context.Context, opts ChooseOptions, server string) probe {
	c, err := NewClient(ClientConfig{BaseURL: server, HTTPClient: opts.HTTPClient,
		Path: opts.MSC4388Path, AccessToken: opts.AccessToken})
	if err != nil {
		return probe{err: err}
	}
	ok, err := c.Discover(ctx)
	switch {
	case err == nil && ok:
		return probe{offered: true}
	case err == nil, errors.Is(err, ErrNeedsAccount):
		return probe{needsAccount: true, missing: "MSC4388 rendezvous sessions can be created only by signed-in devices"}
	case errors.Is(err, ErrNotEnabled):
		return probe{missing: "it does not offer the MSC4388 rendezvous API"}
	}
	return probe{err: err}
}

// hostOf names a server the way users know it: its host (and port, if any).
func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return raw
}
