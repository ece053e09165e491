package devserver

import "net/http"

// GrantTypeDeviceCode is RFC 8628's grant type.
const GrantTypeDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// handleWellKnown serves /.well-known/matrix/client (C-S spec "Well-known
// URIs").
func (s *Server) handleWellKnown(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"m.homeserver": map[string]string{"base_url": s.URL()},
	})
}

// handleVersions advertises the 2024 rendezvous the way Synapse does
// (docs/protocol-divergences.md "2024 rendezvous"):
// unstable_features["org.matrix.msc4108"] when msc4108_enabled. MSC4388 has
// no /versions flag ("MSC4388 discovery" there).
func (s *Server) handleVersions(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"versions": []string{"v1.11", "v1.12", "v1.13", "v1.14", "v1.15"},
		"unstable_features": map[string]bool{
			"org.matrix.msc4108": !s.cfg.Disable2024,
			"org.matrix.msc2965": true,
		},
	})
}

// authMetadata is the RFC 8414 server metadata, shaped like MAS's (MSC4108
// "Login via OAuth 2.0 device authorization flow", step 2). Fields a client
// library may insist on (authorization_endpoint, response types and modes,
// S256) are present although only the device grant works here.
type authMetadata struct {
	Issuer                        string   `json:"issuer"`
	AuthorizationEndpoint         string   `json:"authorization_endpoint"`
	TokenEndpoint                 string   `json:"token_endpoint"`
	JWKSURI                       string   `json:"jwks_uri"`
	RegistrationEndpoint          string   `json:"registration_endpoint"`
	DeviceAuthorizationEndpoint   string   `json:"device_authorization_endpoint"`
	RevocationEndpoint            string   `json:"revocation_endpoint"`
	ScopesSupported               []string `json:"scopes_supported"`
	ResponseTypesSupported        []string `json:"response_types_supported"`
	ResponseModesSupported        []string `json:"response_modes_supported"`
	GrantTypesSupported           []string `json:"grant_types_supported"`
	TokenEndpointAuthMethods      []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethods []string `json:"revocation_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported"`
	PromptValuesSupported         []string `json:"prompt_values_supported"`
}

func (s *Server) handleAuthMetadata(w http.ResponseWriter, _ *http.Request) {
	base := s.URL()
	writeJSON(w, http.StatusOK, authMetadata{
		Issuer:                        base + "/",
		AuthorizationEndpoint:         base + pathAuthorize,
		TokenEndpoint:                 base + pathToken,
		JWKSURI:                       base + pathJWKS,
		RegistrationEndpoint:          base + pathRegistration,
		DeviceAuthorizationEndpoint:   base + pathDevice,
		RevocationEndpoint:            base + pathRevoke,
		ScopesSupported:               []string{"openid", "email", ScopeAPIStable, ScopeAPIUnstable},
		ResponseTypesSupported:        []string{"code"},
		ResponseModesSupported:        []string{"query", "fragment"},
		GrantTypesSupported:           []string{"authorization_code", "refresh_token", GrantTypeDeviceCode},
		TokenEndpointAuthMethods:      []string{"none"},
		RevocationEndpointAuthMethods: []string{"none"},
		CodeChallengeMethodsSupported: []string{"S256"},
		PromptValuesSupported:         []string{"create"},
	})
}

// handleJWKS: no ID tokens are signed here, so the key set is empty.
func handleJWKS(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"keys": []any{}})
}

// handleAuthorize exists because the metadata must name an authorization
// endpoint; the dev server only implements the device grant.
func handleAuthorize(w http.ResponseWriter, _ *http.Request) {
	writeOAuthError(w, http.StatusBadRequest, errUnsupportedGrantType,
		"the development server implements only the device authorization grant")
}
