package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
)

// ClientIDs remembers the OAuth client ID this app registered at each
// issuer (not a secret: a public client has no secret), so a second sign-in
// does not register again. It satisfies oauth.ClientIDCache.
type ClientIDs struct {
	path string
	mu   sync.Mutex
}

// OpenClientIDs returns the cache in the app's config folder.
func OpenClientIDs() (*ClientIDs, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	return &ClientIDs{path: filepath.Join(dir, "clients.json")}, nil
}

// ClientIDsAt returns a cache stored in a given file (tests).
func ClientIDsAt(path string) *ClientIDs { return &ClientIDs{path: path} }

// ClientID returns the cached client ID for an issuer.
func (c *ClientIDs) ClientID(issuer string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.read()
	id, ok := m[issuer]
	return id, ok && id != ""
}

// SetClientID records the client ID for an issuer.
func (c *ClientIDs) SetClientID(issuer, clientID string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.read()
	m[issuer] = clientID
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := c.path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, c.path)
}

// read returns the stored map; a missing or damaged file is an empty cache
// (the worst case is one more registration).
func (c *ClientIDs) read() map[string]string {
	m := map[string]string{}
	b, err := os.ReadFile(c.path)
	if err != nil {
		return m
	}
	_ = json.Unmarshal(b, &m)
	if m == nil {
		m = map[string]string{}
	}
	return m
}
