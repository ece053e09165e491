package server

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Outcomes of checking an access token; the handler maps each to a
// Matrix error.
var (
	errMissingToken = errors.New("rendezvous server: no access token")
	errUnknownToken = errors.New("rendezvous server: access token not recognised")
	errWhoamiFailed = errors.New("rendezvous server: could not check the access token with the homeserver")
)

// tokenVerifier checks bearer tokens in ModeAuthenticated by asking the
// homeserver's GET /_matrix/client/v3/account/whoami. Positive answers are
// cached briefly, keyed by the token's SHA-256 so no token is kept; the
// cache is capped so that a flood of valid tokens cannot grow it.
// Negative answers are not cached: a fresh token may become valid.
type tokenVerifier struct {
	whoamiURL string
	client    *http.Client
	cacheTTL  time.Duration // ≤ 0: no caching

	mu    sync.Mutex
	valid map[[sha256.Size]byte]time.Time // token digest → valid until
}

// maxCachedTokens caps the positive whoami cache.
const maxCachedTokens = 4096

func newTokenVerifier(homeserver string, client *http.Client, cacheTTL time.Duration) *tokenVerifier {
	return &tokenVerifier{
		whoamiURL: homeserver + "/_matrix/client/v3/account/whoami",
		client:    client,
		cacheTTL:  cacheTTL,
		valid:     make(map[[sha256.Size]byte]time.Time),
	}
}

// accessToken extracts the access token from the Authorization header
// ("Bearer TOKEN") or, as the client-server API still allows, from the
// access_token query parameter.
func accessToken(r *http.Request) string {
	if scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(token)
	}
	return r.URL.Query().Get("access_token")
}

// verify returns nil when the homeserver accepts token, or one of the
// err… errors above.
func (v *tokenVerifier) verify(ctx context.Context, token string, now time.Time) error {
	if token == "" {
		return errMissingToken
	}
	for i := 0; i < len(token); i++ {
		if c := token[i]; c < 0x20 || c == 0x7f { // cannot be sent in a header, so no server issued it
			return errUnknownToken
		}
	}
	digest := sha256.Sum256([]byte(token))
	if v.cacheTTL > 0 {
		v.mu.Lock()
		until, ok := v.valid[digest]
		v.mu.Unlock()
		if ok && now.Before(until) {
			return nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.whoamiURL, nil)
	if err != nil {
		return errWhoamiFailed
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := v.client.Do(req)
	if err != nil {
		return errWhoamiFailed
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusUnauthorized, resp.StatusCode == http.StatusForbidden:
		return errUnknownToken
	default:
		return errWhoamiFailed
	}
	if v.cacheTTL > 0 {
		v.mu.Lock()
		if len(v.valid) >= maxCachedTokens {
			v.sweepLocked(now)
		}
		if len(v.valid) < maxCachedTokens {
			v.valid[digest] = now.Add(v.cacheTTL)
		}
		v.mu.Unlock()
	}
	return nil
}

// sweep forgets expired cache entries.
func (v *tokenVerifier) sweep(now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.sweepLocked(now)
}

func (v *tokenVerifier) sweepLocked(now time.Time) {
	for digest, until := range v.valid {
		if !now.Before(until) {
			delete(v.valid, digest)
		}
	}
}
