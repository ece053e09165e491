package devserver

import (
	"errors"
	"sort"
)

// ErrNoPendingGrant: no device authorization waits for consent for the
// device ID asked about (none was requested, it expired, or it was decided).
var ErrNoPendingGrant = errors.New("devserver: no device authorization is waiting for this device ID")

// UserCodeFor returns the user code of the pending device authorization
// whose scope names deviceID (urn:matrix:client:device:<ID>). It is the
// scripted phone's shortcut for what a person does: read the code off the
// new device's screen and type it on the consent page. Dev-only: a real
// authorization server never tells anyone a user code.
func (s *Server) UserCodeFor(deviceID string) (string, error) {
	if deviceID == "" {
		return "", ErrNoPendingGrant
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	var codes []string
	for code, g := range s.grantsByUserCode {
		if g.scope.deviceID == deviceID && g.state == grantPending && now.Before(g.expiresAt) {
			codes = append(codes, code)
		}
	}
	if len(codes) == 0 {
		return "", ErrNoPendingGrant
	}
	sort.Strings(codes) // deterministic if a client asked twice
	return codes[len(codes)-1], nil
}
