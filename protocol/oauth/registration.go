package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/qrlogin/qrlogin/internal/identity"
)

// clientMetadata is the RFC 7591 §2 registration request. Its shape is the
// minimal device-code-only public client MAS accepts
// (docs/protocol-divergences.md "Client registration"): no redirect_uris and
// no response_types, because those would require the authorization_code
// grant.
type clientMetadata struct {
	ClientName              string   `json:"client_name"`
	ClientURI               string   `json:"client_uri"`
	ApplicationType         string   `json:"application_type"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
}

// Register performs dynamic client registration (RFC 7591 §3, Matrix spec
// "Client registration") as a public native client named after
// internal/identity and returns the client_id. MAS deduplicates identical
// public-client metadata, so repeated calls normally return the same ID.
func Register(ctx context.Context, hc *http.Client, m *Metadata) (string, error) {
	if m.RegistrationEndpoint == "" {
		return "", ErrRegistrationUnsupported
	}
	resp, err := postJSON(ctx, hc, m.RegistrationEndpoint, clientMetadata{
		ClientName:              identity.OAuthClientName,
		ClientURI:               identity.OAuthClientURI,
		ApplicationType:         "native",
		TokenEndpointAuthMethod: "none",
		GrantTypes:              []string{GrantTypeDeviceCode, GrantTypeRefreshToken},
	})
	if err != nil {
		return "", err
	}
	if resp.status != http.StatusCreated && resp.status != http.StatusOK {
		return "", parseError("registration", resp.status, resp.body)
	}
	return ParseRegistration(resp.body)
}

// ParseRegistration extracts client_id from an RFC 7591 §3.2.1 response.
func ParseRegistration(body []byte) (string, error) {
	var r struct {
		ClientID string `json:"client_id"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return "", fmt.Errorf("oauth: registration response is not valid JSON: %w", err)
	}
	if r.ClientID == "" || len(r.ClientID) > 255 {
		return "", &MetadataError{Field: "client_id", Reason: "is missing or too long in the registration response"}
	}
	return r.ClientID, nil
}

// ClientIDCache remembers the client_id registered with each issuer, so the
// app registers once per server. The app layer persists it; MemoryCache is
// the in-memory implementation.
type ClientIDCache interface {
	// ClientID returns the cached client_id for issuer, if any.
	ClientID(issuer string) (string, bool)
	// SetClientID stores the client_id for issuer.
	SetClientID(issuer, clientID string) error
}

// MemoryCache is a ClientIDCache in memory, safe for concurrent use.
type MemoryCache struct {
	mu  sync.Mutex
	ids map[string]string
}

// ClientID implements ClientIDCache.
func (c *MemoryCache) ClientID(issuer string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.ids[issuer]
	return id, ok
}

// SetClientID implements ClientIDCache.
func (c *MemoryCache) SetClientID(issuer, clientID string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids == nil {
		c.ids = map[string]string{}
	}
	c.ids[issuer] = clientID
	return nil
}

// ClientIDFor returns the cached client_id for m.Issuer or registers a new
// one (RFC 7591) and caches it, best effort. cache may be nil.
func ClientIDFor(ctx context.Context, hc *http.Client, m *Metadata, cache ClientIDCache) (string, error) {
	if cache != nil {
		if id, ok := cache.ClientID(m.Issuer); ok && id != "" {
			return id, nil
		}
	}
	id, err := Register(ctx, hc, m)
	if err != nil {
		return "", err
	}
	if cache != nil {
		// A cache that cannot be written costs one more registration next
		// time; it must not fail this sign-in.
		_ = cache.SetClientID(m.Issuer, id)
	}
	return id, nil
}
