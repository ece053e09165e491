// Package choose picks the protocol generation for a QR code that this (new)
// device generates: the 2024 MSC4108 stack or MSC4388, by preference and by
// what the server offers (MSC4108 "Discoverability of the capability", "New
// device generating the QR code"; REFERENCE-IMPLEMENTATIONS.md 3.5 and 7 #1).
//
// It lives apart from package rendezvous because it speaks in
// Generation, and securechannel imports rendezvous.
package choose

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// Options says where to look.
type Options struct {
	// HTTPClient sends the probes; nil means a default client.
	HTTPClient *http.Client
	// HomeserverURL is the homeserver base URL (see
	// rendezvous.ResolveHomeserver).
	HomeserverURL string
	// RendezvousServerURL, when set, is an explicit rendezvous server to use
	// instead of the homeserver's own rendezvous API.
	RendezvousServerURL string
	// AccessToken authenticates the MSC4388 discovery when this device
	// already has one (servers in "authenticated" mode).
	AccessToken rendezvous.BearerToken
	// MSC4388Path selects the unstable (default) or stable MSC4388 path.
	MSC4388Path rendezvous.APIPath
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

// Is lets errors.Is(err, rendezvous.ErrNeedsAccount) and
// errors.Is(err, rendezvous.ErrNotEnabled) classify the error.
func (e *UnsupportedError) Is(target error) bool {
	if e.NeedsAccount {
		return target == rendezvous.ErrNeedsAccount
	}
	return target == rendezvous.ErrNotEnabled
}

// probe is one generation's answer: offered, or why not, or a failure that
// says nothing about support (network, context).
type probe struct {
	offered      bool
	needsAccount bool
	missing      string
	err          error
}

// Choose returns the generation to use for a new-device QR code. With Auto
// it is the first of autoOrder that the server offers: 2024 when /versions
// advertises org.matrix.msc4108 (or, with an explicit rendezvous server, a
// create there succeeds), MSC4388 when its discovery says create_available.
// A named preference is checked the same way (fail fast). When nothing
// fits the error is an *UnsupportedError, unless a probe failed for another
// reason (network, context), which is then returned.
func Choose(ctx context.Context, pref vocab.Preference, opts Options) (vocab.Generation, error) {
	order := pref.Order()
	if len(order) == 0 {
		return "", fmt.Errorf("choose: unknown protocol preference %q", string(pref))
	}
	server := opts.RendezvousServerURL
	if server == "" {
		server = opts.HomeserverURL
	}
	if server == "" {
		return "", errors.New("choose: no homeserver or rendezvous server to create the session on")
	}
	unsupported := &UnsupportedError{Server: hostOf(server)}
	var failures []error
	for _, gen := range order {
		var p probe
		switch gen {
		case vocab.MSC4108v2024:
			p = probe2024(ctx, opts)
		case vocab.MSC4388:
			p = probeMSC4388(ctx, opts, server)
		}
		switch {
		case p.offered:
			return gen, nil
		case p.err != nil:
			failures = append(failures, fmt.Errorf("%s: %w", gen, p.err))
		default:
			unsupported.NeedsAccount = unsupported.NeedsAccount || p.needsAccount
			unsupported.Missing = append(unsupported.Missing, p.missing)
		}
	}
	if ctx.Err() != nil {
		return "", context.Cause(ctx)
	}
	if len(failures) > 0 {
		return "", fmt.Errorf("choose: could not check whether %s offers sign-in with QR: %w",
			unsupported.Server, errors.Join(failures...))
	}
	return "", unsupported
}

// probe2024 checks the 2024 stack: the homeserver's /versions flag, or, for
// an explicit rendezvous server (which has no /versions to ask), a create
// that is cancelled at once.
func probe2024(ctx context.Context, opts Options) probe {
	if opts.RendezvousServerURL != "" {
		c, err := rendezvous.NewETagClient(rendezvous.ETagConfig{HTTPClient: opts.HTTPClient})
		if err != nil {
			return probe{err: err}
		}
		s, err := c.CreateAt(ctx, opts.RendezvousServerURL)
		switch {
		case err == nil:
			_ = s.Cancel(ctx) // best effort: the probe session is of no use
			return probe{offered: true}
		case errors.Is(err, rendezvous.ErrNotEnabled):
			return probe{missing: "no MSC4108 (2024) rendezvous endpoint"}
		case errors.Is(err, rendezvous.ErrNeedsAccount):
			return probe{needsAccount: true, missing: "MSC4108 (2024) rendezvous needs a signed-in device"}
		}
		return probe{err: err}
	}
	ok, err := rendezvous.Discover2024(ctx, opts.HTTPClient, opts.HomeserverURL)
	switch {
	case errors.Is(err, rendezvous.ErrNotEnabled):
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
func probeMSC4388(ctx context.Context, opts Options, server string) probe {
	c, err := rendezvous.NewClient(rendezvous.ClientConfig{BaseURL: server, HTTPClient: opts.HTTPClient,
		Path: opts.MSC4388Path, AccessToken: opts.AccessToken})
	if err != nil {
		return probe{err: err}
	}
	ok, err := c.Discover(ctx)
	switch {
	case err == nil && ok:
		return probe{offered: true}
	case err == nil, errors.Is(err, rendezvous.ErrNeedsAccount):
		return probe{needsAccount: true, missing: "MSC4388 rendezvous sessions can be created only by signed-in devices"}
	case errors.Is(err, rendezvous.ErrNotEnabled):
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
