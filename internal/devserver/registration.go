package devserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// clientMetadata is the RFC 7591 registration request, the fields MAS reads
// (docs/protocol-divergences.md "Client registration"). Localised variants
// ("client_name#fr") are accepted and ignored.
type clientMetadata struct {
	RedirectURIs            []string `json:"redirect_uris,omitempty"`
	ResponseTypes           []string `json:"response_types,omitempty"`
	GrantTypes              []string `json:"grant_types"`
	ApplicationType         string   `json:"application_type"`
	ClientName              string   `json:"client_name,omitempty"`
	ClientURI               string   `json:"client_uri"`
	LogoURI                 string   `json:"logo_uri,omitempty"`
	PolicyURI               string   `json:"policy_uri,omitempty"`
	TOSURI                  string   `json:"tos_uri,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
}

// oauthClient is a registered public client.
type oauthClient struct {
	id       string
	metadata clientMetadata
}

func (c *oauthClient) allows(grantType string) bool {
	return slices.Contains(c.metadata.GrantTypes, grantType)
}

// registrationError is an RFC 7591 §3.2.2 error.
type registrationError struct {
	code, description string
}

func (e *registrationError) Error() string { return e.code + ": " + e.description }

func metadataError(format string, args ...any) error {
	return &registrationError{errInvalidClientMetadata, fmt.Sprintf(format, args...)}
}

func redirectError(format string, args ...any) error {
	return &registrationError{errInvalidRedirectURI, fmt.Sprintf(format, args...)}
}

// maxRegistrationBody bounds what we read from a registration request.
const maxRegistrationBody = 64 << 10

// parseClientMetadata decodes and checks a registration request with MAS's
// rules (docs/protocol-divergences.md "Client registration"): grant_types
// defaults to authorization_code, which needs redirect_uris; response_types
// ["code"] needs authorization_code; client_uri is required, https, not
// localhost and not a public suffix; logo/policy/tos URIs live on
// client_uri's host or a subdomain; native redirect URIs are loopback http or
// a reverse-DNS scheme of that host. Only public clients
// (token_endpoint_auth_method "none") are registered here. It returns the
// normalised metadata.
func parseClientMetadata(body []byte) (clientMetadata, error) {
	var m clientMetadata
	if err := json.Unmarshal(body, &m); err != nil {
		return m, metadataError("body is not a JSON object of client metadata: %v", err)
	}
	if m.GrantTypes == nil {
		m.GrantTypes = []string{"authorization_code"}
	}
	if len(m.GrantTypes) == 0 {
		return m, metadataError("grant_types is empty")
	}
	for _, g := range m.GrantTypes {
		switch g {
		case "authorization_code", "refresh_token", GrantTypeDeviceCode:
		default:
			return m, metadataError("grant type %q is not supported", g)
		}
	}
	hasCode := slices.Contains(m.GrantTypes, "authorization_code")
	if m.ResponseTypes == nil && hasCode {
		m.ResponseTypes = []string{"code"}
	}
	for _, rt := range m.ResponseTypes {
		if rt != "code" {
			return m, metadataError("response type %q is not supported", rt)
		}
		if !hasCode {
			return m, metadataError("response type \"code\" needs the authorization_code grant type")
		}
	}
	if hasCode && len(m.RedirectURIs) == 0 {
		return m, redirectError("the authorization_code grant type needs redirect_uris")
	}
	switch m.TokenEndpointAuthMethod {
	case "none":
	case "":
		return m, metadataError("token_endpoint_auth_method missing (RFC 7591 then means client_secret_basic); this server registers public clients only: send \"none\"")
	default:
		return m, metadataError("token_endpoint_auth_method %q: this server registers public clients only (\"none\")", m.TokenEndpointAuthMethod)
	}
	switch m.ApplicationType {
	case "":
		m.ApplicationType = "web"
	case "web", "native":
	default:
		return m, metadataError("application_type %q is neither web nor native", m.ApplicationType)
	}
	host, err := checkClientURI(m.ClientURI)
	if err != nil {
		return m, err
	}
	for name, raw := range map[string]string{"logo_uri": m.LogoURI, "policy_uri": m.PolicyURI, "tos_uri": m.TOSURI} {
		if raw == "" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "https" || !sameOrSubdomain(u.Hostname(), host) {
			return m, metadataError("%s %q must be an https URL on %s or a subdomain", name, raw, host)
		}
	}
	for _, raw := range m.RedirectURIs {
		if err := checkRedirectURI(raw, m.ApplicationType, host); err != nil {
			return m, err
		}
	}
	return m, nil
}

// checkClientURI applies MAS's client_uri rules and returns its host.
func checkClientURI(raw string) (string, error) {
	if raw == "" {
		return "", metadataError("client_uri is required")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return "", metadataError("client_uri %q is not an absolute URL", raw)
	}
	if u.Scheme != "https" {
		return "", metadataError("client_uri %q must use https", raw)
	}
	host := strings.ToLower(u.Hostname())
	if host == "" || isLocalhost(host) {
		return "", metadataError("client_uri %q must not point at localhost", raw)
	}
	if net.ParseIP(host) == nil {
		if suffix, _ := publicsuffix.PublicSuffix(host); suffix == host {
			return "", metadataError("client_uri host %q is a public suffix", host)
		}
	}
	return host, nil
}

func isLocalhost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func sameOrSubdomain(host, parent string) bool {
	host = strings.ToLower(host)
	return host == parent || strings.HasSuffix(host, "."+parent)
}

// checkRedirectURI: native clients use loopback http or a private-use scheme
// that is client_uri's host reversed (RFC 8252 §7.1); web clients use https
// on client_uri's host.
func checkRedirectURI(raw, appType, clientHost string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return redirectError("redirect URI %q is not an absolute URI", raw)
	}
	if u.Fragment != "" {
		return redirectError("redirect URI %q must not have a fragment", raw)
	}
	if appType == "web" {
		if u.Scheme != "https" || !sameOrSubdomain(u.Hostname(), clientHost) {
			return redirectError("web redirect URI %q must be https on %s", raw, clientHost)
		}
		return nil
	}
	switch u.Scheme {
	case "http":
		if !isLocalhost(u.Hostname()) {
			return redirectError("native http redirect URI %q must be loopback", raw)
		}
	case "https":
		if !sameOrSubdomain(u.Hostname(), clientHost) {
			return redirectError("native https redirect URI %q must be on %s", raw, clientHost)
		}
	default:
		labels := strings.Split(u.Scheme, ".")
		slices.Reverse(labels)
		if len(labels) < 2 || !sameOrSubdomain(strings.Join(labels, "."), clientHost) {
			return redirectError("custom-scheme redirect URI %q must use %s reversed as its scheme", raw, clientHost)
		}
	}
	return nil
}

// registrationResponse is the RFC 7591 §3.2.1 answer.
type registrationResponse struct {
	ClientID         string `json:"client_id"`
	ClientIDIssuedAt int64  `json:"client_id_issued_at"`
	clientMetadata
}

// handleRegistration implements dynamic client registration. Identical
// metadata gets the same client_id back, as MAS deduplicates public clients.
func (s *Server) handleRegistration(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRegistrationBody+1))
	if err != nil || len(body) > maxRegistrationBody {
		writeOAuthError(w, http.StatusBadRequest, errInvalidRequest, "registration body unreadable or too large")
		return
	}
	m, err := parseClientMetadata(body)
	if err != nil {
		var re *registrationError
		if !errors.As(err, &re) {
			re = &registrationError{errInvalidClientMetadata, err.Error()}
		}
		writeOAuthError(w, http.StatusBadRequest, re.code, re.description)
		return
	}
	key, _ := json.Marshal(m) // a struct of strings: cannot fail, and deterministic
	s.mu.Lock()
	id, ok := s.clientsByMetadata[string(key)]
	if !ok {
		id = newULIDLike()
		s.clients[id] = &oauthClient{id: id, metadata: m}
		s.clientsByMetadata[string(key)] = id
	}
	now := s.cfg.Now().Unix()
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, registrationResponse{ClientID: id, ClientIDIssuedAt: now, clientMetadata: m})
}

// newULIDLike returns 26 characters of Crockford base32 shaped like the
// ULIDs MAS uses as client IDs.
func newULIDLike() string {
	return randomString(1, "01234567") + randomString(25, "0123456789ABCDEFGHJKMNPQRSTVWXYZ")
}
