package rendezvous

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Unstable feature flag with which a homeserver advertises the 2024
// MSC4108 rendezvous in /versions (docs/protocol-divergences.md "Generation
// choice").
const Feature2024 = "org.matrix.msc4108"

// Discover2024 reports whether the homeserver at baseURL advertises the
// 2024 rendezvous (unstable_features["org.matrix.msc4108"] in
// /_matrix/client/versions). hc may be nil. A server without /versions
// (404) gives an error that errors.Is ErrNotEnabled.
func Discover2024(ctx context.Context, hc *http.Client, baseURL string) (bool, error) {
	if _, err := CheckURL(baseURL); err != nil {
		return false, err
	}
	t := newTransport(hc, RetryPolicy{})
	ex, err := t.do(ctx, "homeserver /versions", func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, joinPath(baseURL, PathVersions), nil)
	})
	if err != nil {
		return false, err
	}
	if ex.status != http.StatusOK {
		return false, newHTTPError(opCreate, ex.status, ex.body)
	}
	return parseVersionsFeature(ex.body, Feature2024)
}

// parseVersionsFeature reads one unstable feature flag from a /versions
// body; a missing flag is false.
func parseVersionsFeature(body []byte, feature string) (bool, error) {
	var v struct {
		Versions         []string        `json:"versions"`
		UnstableFeatures map[string]bool `json:"unstable_features"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return false, malformed("/versions is not the expected JSON object", err)
	}
	return v.UnstableFeatures[feature], nil
}

// ResolveHomeserver turns what a user typed (a server name such as
// "example.org" or "example.org:8448", or a URL) into a homeserver base URL
// via /.well-known/matrix/client (m.homeserver.base_url). Without a usable
// well-known it falls back to https://name (or the URL as given). A
// well-known that names an invalid base URL is an error, as the
// client-server spec's discovery says (FAIL_ERROR). Plain http:// is
// accepted only for loopback hosts. The result has no trailing slash.
func ResolveHomeserver(ctx context.Context, hc *http.Client, nameOrURL string) (string, error) {
	in := strings.TrimSpace(nameOrURL)
	if in == "" {
		return "", errors.New("rendezvous: no homeserver given")
	}
	var origin *url.URL
	fallback := ""
	if strings.Contains(in, "://") {
		u, err := CheckURL(in)
		if err != nil {
			return "", err
		}
		fallback = strings.TrimRight(u.String(), "/")
		if strings.Trim(u.Path, "/") != "" {
			// A URL with a path is a base URL already; a server name never
			// has one.
			return fallback, nil
		}
		origin = &url.URL{Scheme: u.Scheme, Host: u.Host}
	} else {
		u, err := CheckURL("https://" + in)
		if err != nil || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
			return "", fmt.Errorf("rendezvous: %s is neither a server name nor a URL", strconvQuote(in))
		}
		origin = &url.URL{Scheme: "https", Host: u.Host}
		fallback = origin.String()
	}
	base, found, err := wellKnownBaseURL(ctx, hc, origin)
	if err != nil {
		return "", err
	}
	if !found {
		return fallback, nil
	}
	return base, nil
}

// wellKnownBaseURL fetches origin/.well-known/matrix/client. A missing or
// unreadable document (404, network error, not JSON, no m.homeserver) is
// "not found"; an m.homeserver.base_url that is not an acceptable URL is
// an error. Only a context cancellation is passed up as such.
func wellKnownBaseURL(ctx context.Context, hc *http.Client, origin *url.URL) (string, bool, error) {
	t := newTransport(hc, RetryPolicy{Attempts: 2})
	target := origin.String() + "/.well-known/matrix/client"
	ex, err := t.do(ctx, "well-known lookup", func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	})
	if err != nil {
		if ctx.Err() != nil {
			return "", false, err
		}
		return "", false, nil
	}
	if ex.status != http.StatusOK {
		return "", false, nil
	}
	base, ok := parseWellKnown(ex.body)
	if !ok {
		return "", false, nil
	}
	u, err := CheckURL(base)
	if err != nil {
		return "", false, fmt.Errorf("rendezvous: %s/.well-known/matrix/client names an unusable base URL: %w", origin.Host, err)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", false, fmt.Errorf("rendezvous: %s/.well-known/matrix/client names an unusable base URL: %w", origin.Host, ErrInsecureURL)
	}
	return strings.TrimRight(u.String(), "/"), true, nil
}

// parseWellKnown reads m.homeserver.base_url from a client well-known
// document; ok is false when it is not there.
func parseWellKnown(body []byte) (string, bool) {
	var wk struct {
		Homeserver *struct {
			BaseURL string `json:"base_url"`
		} `json:"m.homeserver"`
	}
	if json.Unmarshal(body, &wk) != nil || wk.Homeserver == nil || strings.TrimSpace(wk.Homeserver.BaseURL) == "" {
		return "", false
	}
	return strings.TrimSpace(wk.Homeserver.BaseURL), true
}
