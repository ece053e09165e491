package devserver

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Rendezvous paths as Synapse serves them (docs/protocol-divergences.md
// "MSC4388 rendezvous on Synapse" and "2024 rendezvous"), plus the MSC4388
// text's /v1/ path.
const (
	pathRendezvous2024Create = "/_matrix/client/unstable/org.matrix.msc4108/rendezvous"
	pathRendezvous2024       = "/_synapse/client/rendezvous"
	pathRendezvousMSC4388    = "/_matrix/client/unstable/io.element.msc4388/rendezvous"
	pathRendezvousMSC4388V1  = "/_matrix/client/v1/rendezvous"
)

var rendezvousPrefixes = []string{
	pathRendezvous2024Create, pathRendezvous2024, pathRendezvousMSC4388, pathRendezvousMSC4388V1,
}

// buildRendezvous makes the rendezvous handler with the configured factory,
// or qrlogin's rendezvous server when none is configured.
func (s *Server) buildRendezvous(base string) (http.Handler, error) {
	factory := s.cfg.Rendezvous
	if factory == nil {
		factory = defaultRendezvousFactory
	}
	if factory == nil {
		return nil, nil
	}
	h, err := factory(RendezvousOptions{
		BaseURL:            base,
		SessionTTL2024:     s.cfg.SessionTTL2024,
		SessionTTLMSC4388:  s.cfg.SessionTTLMSC4388,
		Offer2024:          !s.cfg.Disable2024,
		MSC4388:            s.cfg.MSC4388,
		MSC4388StablePaths: s.cfg.MSC4388StablePaths,
		Now:                s.cfg.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("devserver: rendezvous handler: %w", err)
	}
	if h == nil {
		return nil, errors.New("devserver: rendezvous factory returned no handler")
	}
	return h, nil
}

// closeRendezvous ends a rendezvous handler that holds resources: the
// default factory's *server.Server runs a sweeper goroutine until its
// Close; a custom factory's handler may have Close() error. nil and
// handlers without Close need nothing.
func closeRendezvous(h http.Handler) error {
	switch c := h.(type) {
	case interface{ Close() error }:
		return c.Close()
	case interface{ Close() }:
		c.Close()
	}
	return nil
}

// handleRendezvous gates the rendezvous paths the way Synapse's config does
// and delegates the rest: a generation that is off answers 404
// M_UNRECOGNIZED (its servlet is not registered); MSC4388's authenticated
// mode needs an access token for discovery (GET) and create (POST) on the
// base path only (docs/protocol-divergences.md "MSC4388 rendezvous on
// Synapse").
func (s *Server) handleRendezvous(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	under := func(prefix string) bool { return path == prefix || strings.HasPrefix(path, prefix+"/") }
	switch {
	case under(pathRendezvous2024Create) || under(pathRendezvous2024):
		if s.cfg.Disable2024 {
			notFound(w, r)
			return
		}
	case under(pathRendezvousMSC4388) || under(pathRendezvousMSC4388V1):
		if s.cfg.MSC4388 == MSC4388Off || (under(pathRendezvousMSC4388V1) && !s.cfg.MSC4388StablePaths) {
			notFound(w, r)
			return
		}
		createPath := strings.TrimSuffix(path, "/") == pathRendezvousMSC4388 ||
			strings.TrimSuffix(path, "/") == pathRendezvousMSC4388V1
		if s.cfg.MSC4388 == MSC4388Authenticated && createPath && r.Method != http.MethodOptions {
			if _, err := s.sessionFor(r); err != nil {
				code := "M_UNKNOWN_TOKEN"
				if errors.Is(err, errNoToken) {
					code = "M_MISSING_TOKEN"
				}
				writeMatrixError(w, http.StatusUnauthorized, code, "the rendezvous needs an access token on this server")
				return
			}
		}
	}
	s.mu.Lock()
	h := s.rendezvous
	s.mu.Unlock()
	if h == nil {
		writeMatrixError(w, http.StatusNotFound, "M_UNRECOGNIZED", "no rendezvous handler is wired into this development server")
		return
	}
	h.ServeHTTP(w, r)
}
