package devserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// grantState is where a device authorization stands.
type grantState int

const (
	grantPending grantState = iota
	grantApproved
	grantDenied
	grantExchanged // the token was issued; the device code is spent
)

// deviceGrant is one RFC 8628 device authorization.
type deviceGrant struct {
	deviceCode string
	userCode   string
	clientID   string
	scope      scopeGrant
	scopeErr   error // policy violation, reported at consent (ScopePolicyAtConsent)
	expiresAt  time.Time
	state      grantState
}

// Sizes of MAS's codes (docs/protocol-divergences.md "Device
// authorization").
const (
	deviceCodeLength = 32
	userCodeLength   = 6
)

// Errors of Approve and Deny (and the consent page).
var (
	ErrUnknownUserCode = errors.New("devserver: no device authorization has this user code")
	ErrGrantExpired    = errors.New("devserver: the device authorization has expired")
	ErrGrantDecided    = errors.New("devserver: the device authorization was already approved or denied")
)

// deviceAuthorizationResponse is RFC 8628 §3.2.
type deviceAuthorizationResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete,omitempty"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

// handleDeviceAuthorization: form POST with client_id and scope (MSC4108
// step 2). The client must have registered the device_code grant type, or
// MAS answers 401 unauthorized_client.
func (s *Server) handleDeviceAuthorization(w http.ResponseWriter, r *http.Request) {
	form, ok := readForm(w, r)
	if !ok {
		return
	}
	clientID := form.Get("client_id")
	s.mu.Lock()
	client := s.clients[clientID]
	s.mu.Unlock()
	switch {
	case client == nil:
		writeOAuthError(w, http.StatusUnauthorized, errInvalidClient, "unknown client_id")
		return
	case !client.allows(GrantTypeDeviceCode):
		writeOAuthError(w, http.StatusUnauthorized, errUnauthorizedClient,
			"the client did not register the "+GrantTypeDeviceCode+" grant type")
		return
	}
	scope, scopeErr := parseScope(form.Get("scope"))
	if scopeErr != nil && !s.cfg.ScopePolicyAtConsent {
		writeOAuthError(w, http.StatusBadRequest, errInvalidScope, scopeErr.Error())
		return
	}

	s.mu.Lock()
	g := &deviceGrant{
		deviceCode: randomString(deviceCodeLength, alphanumeric),
		clientID:   clientID,
		scope:      scope,
		scopeErr:   scopeErr,
		expiresAt:  s.cfg.Now().Add(s.cfg.DeviceCodeLifetime),
	}
	for g.userCode == "" || s.grantsByUserCode[g.userCode] != nil {
		g.userCode = randomString(userCodeLength, upperAlphanumeric)
	}
	s.grants[g.deviceCode] = g
	s.grantsByUserCode[g.userCode] = g
	base := s.baseURL
	s.notifyGrantLocked()
	s.mu.Unlock()

	resp := deviceAuthorizationResponse{
		DeviceCode:      g.deviceCode,
		UserCode:        g.userCode,
		VerificationURI: base + pathConsent,
		ExpiresIn:       wholeSeconds(s.cfg.DeviceCodeLifetime),
		Interval:        wholeSeconds(s.cfg.PollInterval),
	}
	if s.cfg.VerificationURIComplete {
		resp.VerificationURIComplete = base + pathConsent + "?code=" + url.QueryEscape(g.userCode)
	}
	writeJSON(w, http.StatusOK, resp)
}

// maxFormBody bounds form bodies on the OAuth endpoints.
const maxFormBody = 16 << 10

// readForm parses an application/x-www-form-urlencoded body.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, errInvalidRequest, "request body is not a valid form")
		return nil, false
	}
	return r.PostForm, true
}

// normaliseUserCode accepts what a person types: any case, spaces and
// dashes around or inside.
func normaliseUserCode(code string) string {
	code = strings.ToUpper(code)
	return strings.NewReplacer(" ", "", "-", "", "\t", "").Replace(code)
}

// decide approves or denies the pending grant for userCode. The caller holds
// no lock.
func (s *Server) decide(userCode string, approve bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.grantsByUserCode[normaliseUserCode(userCode)]
	switch {
	case g == nil:
		return ErrUnknownUserCode
	case !s.cfg.Now().Before(g.expiresAt):
		return ErrGrantExpired
	case g.state != grantPending:
		return ErrGrantDecided
	case approve && g.scopeErr != nil:
		return fmt.Errorf("devserver: policy refuses the requested scopes: %w", g.scopeErr)
	}
	if approve {
		g.state = grantApproved
	} else {
		g.state = grantDenied
	}
	return nil
}

// Approve plays the user consenting on the consent page.
func (s *Server) Approve(userCode string) error { return s.decide(userCode, true) }

// Deny plays the user refusing on the consent page.
func (s *Server) Deny(userCode string) error { return s.decide(userCode, false) }

// PendingUserCodes lists the user codes waiting for consent, sorted.
func (s *Server) PendingUserCodes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	var codes []string
	for code, g := range s.grantsByUserCode {
		if g.state == grantPending && now.Before(g.expiresAt) {
			codes = append(codes, code)
		}
	}
	sort.Strings(codes)
	return codes
}

// notifyGrantLocked wakes WaitForUserCode. Caller holds s.mu.
func (s *Server) notifyGrantLocked() {
	if s.grantAdded != nil {
		close(s.grantAdded)
		s.grantAdded = nil
	}
}

// WaitForUserCode returns the oldest pending user code, waiting until a
// device authorization is pending or ctx ends: the scripted phone uses it
// to "type" the code the new device shows.
func (s *Server) WaitForUserCode(ctx context.Context) (string, error) {
	for {
		s.mu.Lock()
		now := s.cfg.Now()
		var oldest *deviceGrant
		for _, g := range s.grantsByUserCode {
			if g.state == grantPending && now.Before(g.expiresAt) && (oldest == nil || g.expiresAt.Before(oldest.expiresAt)) {
				oldest = g
			}
		}
		if oldest != nil {
			s.mu.Unlock()
			return oldest.userCode, nil
		}
		if s.grantAdded == nil {
			s.grantAdded = make(chan struct{})
		}
		wake := s.grantAdded
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-wake:
		}
	}
}
