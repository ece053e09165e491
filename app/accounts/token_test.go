package accounts

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// readLog is a backend that records the name of every item read.
type readLog struct {
	Backend
	mu    sync.Mutex
	names []string
}

func (r *readLog) Get(service, user string) (string, error) {
	r.mu.Lock()
	r.names = append(r.names, user)
	r.mu.Unlock()
	return r.Backend.Get(service, user)
}

// keysRead lists the items read that are neither the index, the meta item
// nor a token.
func (r *readLog) keysRead() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, n := range r.names {
		if n == indexItem || strings.HasSuffix(n, ":meta") || strings.Contains(n, "access_token") || strings.Contains(n, "refresh_token") {
			continue
		}
		out = append(out, n)
	}
	return out
}

// TestAccessTokenReadsOnlyTheTokens: handing out an access token, fresh or
// refreshed, reads the meta item and the two tokens, never the account's
// keys or its Olm account (a grant asks for the token often).
func TestAccessTokenReadsOnlyTheTokens(t *testing.T) {
	a := sampleAccount("@ivan:example.org")
	now := time.Now()
	for _, c := range []struct {
		name    string
		expires time.Time
	}{
		{"fresh", now.Add(time.Hour)},
		{"refreshed", now.Add(10 * time.Second)},
	} {
		t.Run(c.name, func(t *testing.T) {
			log := &readLog{Backend: NewMemoryKeyring()}
			s := memoryStore(t, log)
			a.AccessExpiresAt = c.expires
			if _, err := s.Save(a); err != nil {
				t.Fatal(err)
			}
			log.names = nil
			tok, err := s.AccessToken(t.Context(), a.UserID, func(_ context.Context, m Meta, rt Secret) (Secret, Secret, time.Time, error) {
				return "mat_fresh", "mar_fresh", now.Add(time.Hour), nil
			})
			if err != nil || tok == "" {
				t.Fatalf("AccessToken: %v", err)
			}
			if keys := log.keysRead(); len(keys) > 0 {
				t.Fatalf("AccessToken read %q", keys)
			}
		})
	}
}
