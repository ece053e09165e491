package devserver

import (
	"errors"
	"net/http"
	"strings"
	"time"
)

// oauthSession is one signed-in client session: an access token, maybe a
// refresh token, and the Matrix device the device scope named.
type oauthSession struct {
	clientID      string
	userID        string
	deviceID      string // "" when no device scope was granted
	scope         scopeGrant
	accessToken   string
	accessExpires time.Time
	refreshToken  string // "" when the client did not register refresh_token
}

// tokenResponse is RFC 6749 §5.1.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
}

// Token prefixes as MAS writes them, so they are recognisable in a capture.
const (
	accessTokenPrefix  = "mat_"
	refreshTokenPrefix = "mar_"
	tokenRandomLength  = 32
)

// requestClientID takes client_id from the form, or from HTTP Basic auth's
// user name (what x/oauth2 sends with AuthStyleInHeader).
func requestClientID(r *http.Request) string {
	if id := r.PostForm.Get("client_id"); id != "" {
		return id
	}
	if user, _, ok := r.BasicAuth(); ok {
		return user
	}
	return ""
}

// handleToken serves the device_code and refresh_token grants with MAS's
// status codes (docs/protocol-divergences.md "Token polling"): pending,
// denied and expired answer HTTP 403 (not RFC 8628's 400); a spent or unknown
// code is 400 invalid_grant; a client without the grant type is 401
// unauthorized_client.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	form, ok := readForm(w, r)
	if !ok {
		return
	}
	clientID := requestClientID(r)
	grantType := form.Get("grant_type")

	status, body := s.tokenAnswer(clientID, grantType, form.Get("device_code"), form.Get("refresh_token"))
	writeJSON(w, status, body)
}

// tokenAnswer decides the token endpoint's answer under the lock; the
// caller writes it after unlocking, so a slow client holds up nobody.
func (s *Server) tokenAnswer(clientID, grantType, deviceCode, refreshToken string) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	client := s.clients[clientID]
	if client == nil {
		return http.StatusUnauthorized, oauthError{errInvalidClient, "unknown client_id"}
	}
	switch grantType {
	case GrantTypeDeviceCode, "refresh_token":
	default:
		return http.StatusBadRequest, oauthError{errUnsupportedGrantType, "grant_type " + grantType + " is not supported"}
	}
	if !client.allows(grantType) {
		return http.StatusUnauthorized, oauthError{errUnauthorizedClient, "the client did not register grant type " + grantType}
	}
	if grantType == GrantTypeDeviceCode {
		return s.exchangeDeviceCode(client, deviceCode)
	}
	return s.refresh(client, refreshToken)
}

// exchangeDeviceCode answers one poll. Caller holds s.mu.
func (s *Server) exchangeDeviceCode(client *oauthClient, deviceCode string) (int, any) {
	g := s.grants[deviceCode]
	switch {
	case g == nil || g.clientID != client.id:
		return http.StatusBadRequest, oauthError{errInvalidGrant, "unknown device_code"}
	case g.state == grantExchanged:
		return http.StatusBadRequest, oauthError{errInvalidGrant, "the device_code was already exchanged"}
	case !s.cfg.Now().Before(g.expiresAt):
		return http.StatusForbidden, oauthError{errExpiredToken, "the device code has expired"}
	case g.state == grantDenied:
		return http.StatusForbidden, oauthError{errAccessDenied, "the user denied the request"}
	case g.state == grantPending:
		return http.StatusForbidden, oauthError{errAuthorizationPending, "waiting for the user to consent"}
	}
	// Approved.
	g.state = grantExchanged
	sess := &oauthSession{clientID: client.id, userID: s.acct.userID, deviceID: g.scope.deviceID, scope: g.scope}
	// MAS creates the Matrix device synchronously at exchange
	// (docs/protocol-divergences.md "Token polling"), so the phone's GET
	// /devices/{id} right after m.login.success finds it.
	if sess.deviceID != "" && s.devices[sess.deviceID] == nil {
		s.devices[sess.deviceID] = &device{id: sess.deviceID, createdAt: s.cfg.Now()}
	}
	return http.StatusOK, s.issueTokens(sess, client)
}

// refresh rotates: the old refresh token and its access token die, a new
// pair is issued. Caller holds s.mu.
func (s *Server) refresh(client *oauthClient, refreshToken string) (int, any) {
	sess := s.refreshTokens[refreshToken]
	if sess == nil || sess.clientID != client.id {
		return http.StatusBadRequest, oauthError{errInvalidGrant, "unknown or already used refresh_token"}
	}
	delete(s.refreshTokens, sess.refreshToken)
	delete(s.accessTokens, sess.accessToken)
	return http.StatusOK, s.issueTokens(sess, client)
}

// issueTokens gives sess fresh tokens. Caller holds s.mu.
func (s *Server) issueTokens(sess *oauthSession, client *oauthClient) tokenResponse {
	sess.accessToken = accessTokenPrefix + randomString(tokenRandomLength, alphanumeric)
	sess.accessExpires = s.cfg.Now().Add(s.cfg.AccessTokenLifetime)
	s.accessTokens[sess.accessToken] = sess
	sess.refreshToken = ""
	if client.allows("refresh_token") {
		sess.refreshToken = refreshTokenPrefix + randomString(tokenRandomLength, alphanumeric)
		s.refreshTokens[sess.refreshToken] = sess
	}
	return tokenResponse{
		AccessToken:  sess.accessToken,
		TokenType:    "Bearer",
		ExpiresIn:    wholeSeconds(s.cfg.AccessTokenLifetime),
		RefreshToken: sess.refreshToken,
		Scope:        sess.scope.String(),
	}
}

// handleRevoke is RFC 7009. Revoking either token ends the whole session,
// as MAS does, and with it the Matrix device (MAS deletes the device on the
// homeserver when its session ends). Unknown tokens still get 200 (RFC 7009
// §2.2).
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	form, ok := readForm(w, r)
	if !ok {
		return
	}
	token := form.Get("token")
	if token == "" {
		writeOAuthError(w, http.StatusBadRequest, errInvalidRequest, "token is required")
		return
	}
	clientID := requestClientID(r)
	s.mu.Lock()
	known := s.clients[clientID] != nil
	if known {
		sess := s.accessTokens[token]
		if sess == nil {
			sess = s.refreshTokens[token]
		}
		if sess != nil && sess.clientID == clientID {
			s.endSession(sess)
		}
	}
	s.mu.Unlock()
	if !known {
		writeOAuthError(w, http.StatusUnauthorized, errInvalidClient, "unknown client_id")
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// endSession removes the session's tokens and, when no other session uses
// it, its device. Caller holds s.mu.
func (s *Server) endSession(sess *oauthSession) {
	delete(s.accessTokens, sess.accessToken)
	delete(s.refreshTokens, sess.refreshToken)
	if sess.deviceID == "" {
		return
	}
	for _, other := range s.accessTokens {
		if other.deviceID == sess.deviceID {
			return
		}
	}
	delete(s.devices, sess.deviceID)
}

// errNoToken and errBadToken are the two ways a C-S request is unauthorised.
var (
	errNoToken  = errors.New("missing access token")
	errBadToken = errors.New("unknown, expired or revoked access token")
)

// sessionFor finds the live session of a request's bearer token (or the
// deprecated access_token query parameter, which Synapse still reads).
func (s *Server) sessionFor(r *http.Request) (*oauthSession, error) {
	token := ""
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, value, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return nil, errBadToken
		}
		token = strings.TrimSpace(value)
	} else {
		token = r.URL.Query().Get("access_token")
	}
	if token == "" {
		return nil, errNoToken
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.accessTokens[token]
	if sess == nil || !s.cfg.Now().Before(sess.accessExpires) || !sess.scope.api {
		return nil, errBadToken
	}
	copied := *sess
	return &copied, nil
}

// withAuth requires a valid access token granting the C-S API scope.
func (s *Server) withAuth(h func(http.ResponseWriter, *http.Request, *oauthSession)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.sessionFor(r)
		switch {
		case errors.Is(err, errNoToken):
			writeMatrixError(w, http.StatusUnauthorized, "M_MISSING_TOKEN", "Missing access token")
		case err != nil:
			writeMatrixError(w, http.StatusUnauthorized, "M_UNKNOWN_TOKEN", "Unknown, expired or revoked access token")
		default:
			h(w, r, sess)
		}
	}
}

// Tokens is a session created by LoginDevice.
type Tokens struct {
	UserID       string
	DeviceID     string
	AccessToken  Secret
	RefreshToken Secret
}

// LoginDevice signs the test account in on deviceID directly, without the
// device grant: the scripted phone (the existing device) uses it to get an
// access token for GET /devices/{id}. The session has the stable API scope
// and a refresh token, and its device exists at once.
func (s *Server) LoginDevice(deviceID string) (Tokens, error) {
	scope, err := parseScope(ScopeAPIStable + " " + ScopeDevicePrefixStable + deviceID)
	if err != nil {
		return Tokens{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.acct == nil || s.closed {
		return Tokens{}, errNotReady
	}
	internal := &oauthClient{id: "devserver-internal", metadata: clientMetadata{GrantTypes: []string{"refresh_token"}}}
	if s.clients[internal.id] == nil {
		s.clients[internal.id] = internal
	}
	sess := &oauthSession{clientID: internal.id, userID: s.acct.userID, deviceID: deviceID, scope: scope}
	if s.devices[deviceID] == nil {
		s.devices[deviceID] = &device{id: deviceID, createdAt: s.cfg.Now()}
	}
	t := s.issueTokens(sess, s.clients[internal.id])
	return Tokens{UserID: sess.userID, DeviceID: deviceID, AccessToken: Secret(t.AccessToken), RefreshToken: Secret(t.RefreshToken)}, nil
}
