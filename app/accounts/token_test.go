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

// TestRefreshOutlivesTheCallersCancel: once the refresh is under way, the
// server may already have rotated the refresh token; a caller cancelling
// then must not lose the new one. The refresh runs on its own deadline.
func TestRefreshOutlivesTheCallersCancel(t *testing.T) {
	a := sampleAccount("@judy:example.org")
	now := time.Now()
	a.AccessExpiresAt = now.Add(10 * time.Second)
	s := memoryStore(t, NewMemoryKeyring())
	if _, err := s.Save(a); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var deadline bool
	_, _ = s.AccessToken(ctx, a.UserID, func(rctx context.Context, m Meta, rt Secret) (Secret, Secret, time.Time, error) {
		// The server rotated the token; the caller gives up before the
		// answer is read.
		cancel()
		_, deadline = rctx.Deadline()
		if err := rctx.Err(); err != nil {
			return "", "", time.Time{}, err
		}
		return "mat_fresh", "mar_fresh", now.Add(time.Hour), nil
	})
	got, err := s.Load(a.UserID)
	if err != nil || got.RefreshToken != "mar_fresh" || got.AccessToken != "mat_fresh" {
		t.Fatalf("the rotated tokens were not stored: %v", err)
	}
	if !deadline {
		t.Fatal("the refresh runs without a deadline")
	}
}

// TestLoadKeysReadsOnlyTheKeys: LoadKeys reads the metadata and the four
// keys, no token and not the Olm account; a damaged key leaves every key
// out and is named, a damaged item it does not read changes nothing.
func TestLoadKeysReadsOnlyTheKeys(t *testing.T) {
	a := sampleAccount("@kim:example.org")
	log := &readLog{Backend: NewMemoryKeyring()}
	s := memoryStore(t, log)
	if _, err := s.Save(a); err != nil {
		t.Fatal(err)
	}
	log.names = nil
	got, damaged, err := s.LoadKeys(a.UserID)
	if err != nil || damaged != nil || got.DeviceID != a.DeviceID || got.MasterKey != a.MasterKey || got.BackupKey != a.BackupKey ||
		got.AccessToken != "" || got.OlmPickle != "" {
		t.Fatalf("LoadKeys: %v, %v", damaged, err)
	}
	for _, n := range log.names {
		if strings.Contains(n, "token") || strings.Contains(n, "olm_pickle") {
			t.Fatalf("LoadKeys read %q", n)
		}
	}
	// In this order: the damage stays.
	for _, c := range []struct {
		item        string
		wantDamaged bool
	}{{"olm_pickle", false}, {"self_signing_key", true}} {
		item, wantDamaged := c.item, c.wantDamaged
		_ = log.Backend.Set(memService, genItemName(a.UserID, 1, item), chunkHeader+"a:1:4:0123456789abcdef")
		got, damaged, err := s.LoadKeys(a.UserID)
		if err != nil || (damaged != nil) != wantDamaged {
			t.Fatalf("%s damaged: LoadKeys %v, %v", item, damaged, err)
		}
		if wantDamaged && (got.MasterKey != "" || got.DeviceID != a.DeviceID || !strings.Contains(damaged.Item, item)) {
			t.Fatalf("%s damaged: keys returned, or the metadata or the item's name missing", item)
		}
	}
}
