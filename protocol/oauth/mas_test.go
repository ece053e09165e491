package oauth

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// fakeMAS imitates matrix-authentication-service as
// docs/protocol-divergences.md "Client registration" and "Token polling"
// describe it, including its HTTP 403 answers for pending/denied/expired
// device codes, 400 invalid_grant for a re-used code and refresh-token
// rotation.
type fakeMAS struct {
	t   *testing.T
	srv *httptest.Server

	mu            sync.Mutex
	stableMissing bool              // auth_metadata only on the unstable path
	noDeviceGrant bool              // grant_types_supported without device_code
	clients       map[string]string // registration JSON -> client_id (dedup)
	registrations int
	deviceScopes  []string
	codes         map[string]*deviceCode
	pollScript    []string // answers for the next polls: "pending", "slow_down", "denied", "expired", "approve"
	polls         int
	refreshTokens map[string]bool // valid refresh tokens
	revoked       map[string]string
	issued        int
}

type deviceCode struct {
	clientID string
	used     bool
}

func newFakeMAS(t *testing.T) *fakeMAS {
	m := &fakeMAS{t: t, clients: map[string]string{}, codes: map[string]*deviceCode{},
		refreshTokens: map[string]bool{}, revoked: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_matrix/client/v1/auth_metadata", m.metadata(false))
	mux.HandleFunc("GET /_matrix/client/unstable/org.matrix.msc2965/auth_metadata", m.metadata(true))
	mux.HandleFunc("POST /oauth2/registration", m.register)
	mux.HandleFunc("POST /oauth2/device", m.device)
	mux.HandleFunc("POST /oauth2/token", m.token)
	mux.HandleFunc("POST /oauth2/revoke", m.revoke)
	m.srv = httptest.NewServer(mux)
	t.Cleanup(m.srv.Close)
	return m
}

func (m *fakeMAS) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (m *fakeMAS) oauthError(w http.ResponseWriter, status int, code string) {
	m.writeJSON(w, status, map[string]string{"error": code, "error_description": "fake MAS: " + code})
}

func (m *fakeMAS) metadata(unstable bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		defer m.mu.Unlock()
		if !unstable && m.stableMissing {
			m.writeJSON(w, 404, map[string]string{"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"})
			return
		}
		grants := []string{"authorization_code", "refresh_token", "client_credentials"}
		if !m.noDeviceGrant {
			grants = append(grants, GrantTypeDeviceCode)
		}
		base := m.srv.URL
		m.writeJSON(w, 200, map[string]any{
			"issuer":                        base + "/",
			"authorization_endpoint":        base + "/authorize",
			"token_endpoint":                base + "/oauth2/token",
			"jwks_uri":                      base + "/oauth2/keys.json",
			"registration_endpoint":         base + "/oauth2/registration",
			"revocation_endpoint":           base + "/oauth2/revoke",
			"device_authorization_endpoint": base + "/oauth2/device",
			"scopes_supported":              []string{"openid", "email"},
			"grant_types_supported":         grants,
		})
	}
}

// register applies MAS's client-metadata rules for a public native client.
func (m *fakeMAS) register(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.registrations++
	var body map[string]any
	if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&body) != nil {
		m.oauthError(w, 400, "invalid_request")
		return
	}
	bad := func(why string) {
		m.t.Errorf("registration rejected: %s (body %v)", why, body)
		m.oauthError(w, 400, "invalid_client_metadata")
	}
	grants, _ := body["grant_types"].([]any)
	if len(grants) == 0 {
		bad("grant_types omitted means authorization_code, which needs redirect_uris")
		return
	}
	if _, ok := body["redirect_uris"]; ok {
		bad("redirect_uris without authorization_code")
		return
	}
	if _, ok := body["response_types"]; ok {
		bad("response_types without authorization_code is incoherent")
		return
	}
	if uri, _ := body["client_uri"].(string); !strings.HasPrefix(uri, "https://") {
		bad("client_uri must be https")
		return
	}
	if body["token_endpoint_auth_method"] != "none" || body["application_type"] != "native" {
		bad("not a public native client")
		return
	}
	key, _ := json.Marshal(body) // map keys are sorted: identical metadata deduplicates
	id, ok := m.clients[string(key)]
	if !ok {
		id = "01J" + randomAlnum(23)
		m.clients[string(key)] = id
	}
	m.writeJSON(w, 201, map[string]any{"client_id": id, "client_id_issued_at": 1700000000})
}

var masDeviceIDPolicy = regexp.MustCompile(`^[A-Za-z0-9._~!$&'()*+,;=:@/-]{10,}$`)

func (m *fakeMAS) knownClient(id string) bool {
	for _, v := range m.clients {
		if v == id {
			return true
		}
	}
	return false
}

func (m *fakeMAS) device(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r.ParseForm() != nil || !m.knownClient(r.PostForm.Get("client_id")) {
		m.oauthError(w, 401, "invalid_client")
		return
	}
	// MAS evaluates the scope policy at consent time; we check it here so a
	// test fails loudly.
	scopes := strings.Fields(r.PostForm.Get("scope"))
	m.deviceScopes = scopes
	stable, unstable, devices := 0, 0, 0
	for _, s := range scopes {
		switch {
		case strings.HasPrefix(s, "urn:matrix:client:"):
			stable++
		case strings.HasPrefix(s, "urn:matrix:org.matrix.msc2967.client:"):
			unstable++
		}
		if i := strings.Index(s, ":device:"); i >= 0 {
			devices++
			if !masDeviceIDPolicy.MatchString(s[i+len(":device:"):]) {
				m.t.Errorf("device scope %q violates MAS's policy", s)
			}
		}
	}
	if stable > 0 && unstable > 0 || devices != 1 || len(scopes) != 2 {
		m.t.Errorf("scope %q violates MAS's policy", scopes)
	}
	code := randomAlnum(32)
	m.codes[code] = &deviceCode{clientID: r.PostForm.Get("client_id")}
	m.writeJSON(w, 200, map[string]any{
		"device_code":      code,
		"user_code":        strings.ToUpper(randomAlnum(6)),
		"verification_uri": m.srv.URL + "/link",
		"expires_in":       1200,
		"interval":         5,
	})
}

func (m *fakeMAS) token(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r.ParseForm() != nil {
		m.oauthError(w, 400, "invalid_request")
		return
	}
	f := r.PostForm
	switch f.Get("grant_type") {
	case GrantTypeDeviceCode:
		m.polls++
		dc := m.codes[f.Get("device_code")]
		if dc == nil || dc.used || dc.clientID != f.Get("client_id") {
			m.oauthError(w, 400, "invalid_grant")
			return
		}
		next := "pending"
		if len(m.pollScript) > 0 {
			next, m.pollScript = m.pollScript[0], m.pollScript[1:]
		}
		switch next {
		case "pending":
			m.oauthError(w, 403, "authorization_pending")
		case "slow_down":
			m.oauthError(w, 400, "slow_down") // MAS never sends it; RFC servers do
		case "denied":
			m.oauthError(w, 403, "access_denied")
		case "expired":
			m.oauthError(w, 403, "expired_token")
		case "approve":
			dc.used = true
			m.issueTokens(w)
		default:
			m.t.Fatalf("bad poll script entry %q", next)
		}
	case GrantTypeRefreshToken:
		rt := f.Get("refresh_token")
		if !m.refreshTokens[rt] || !m.knownClient(f.Get("client_id")) {
			m.oauthError(w, 400, "invalid_grant")
			return
		}
		delete(m.refreshTokens, rt) // rotation: the old one is spent
		m.issueTokens(w)
	default:
		m.oauthError(w, 400, "unsupported_grant_type")
	}
}

func (m *fakeMAS) issueTokens(w http.ResponseWriter) {
	m.issued++
	access := fmt.Sprintf("mat_%s_%d", randomAlnum(20), m.issued)
	refresh := fmt.Sprintf("mar_%s_%d", randomAlnum(20), m.issued)
	m.refreshTokens[refresh] = true
	m.writeJSON(w, 200, map[string]any{
		"access_token": access, "token_type": "Bearer", "expires_in": 300,
		"refresh_token": refresh, "scope": strings.Join(m.deviceScopes, " "),
	})
}

func (m *fakeMAS) revoke(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r.ParseForm() != nil || !m.knownClient(r.PostForm.Get("client_id")) {
		m.oauthError(w, 401, "invalid_client")
		return
	}
	m.revoked[r.PostForm.Get("token")] = r.PostForm.Get("token_type_hint")
	delete(m.refreshTokens, r.PostForm.Get("token"))
	w.WriteHeader(200)
}

func randomAlnum(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
