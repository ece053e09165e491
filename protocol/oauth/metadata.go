package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/qrlogin/qrlogin/protocol/internal/secureurl"
)

// GrantTypeDeviceCode is the RFC 8628 §3.4 grant type.
const GrantTypeDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// GrantTypeRefreshToken is the RFC 6749 §6 grant type.
const GrantTypeRefreshToken = "refresh_token"

// Discovery paths: the stable endpoint of the Matrix spec (v1.15 "Server
// metadata discovery") and the MSC2965 unstable one older servers serve
// (docs/protocol-divergences.md "Auth metadata").
const (
	authMetadataPath         = "/_matrix/client/v1/auth_metadata"
	authMetadataUnstablePath = "/_matrix/client/unstable/org.matrix.msc2965/auth_metadata"
)

// Metadata is the part of the RFC 8414 authorization server metadata the
// device flow needs.
type Metadata struct {
	Issuer                      string   `json:"issuer"`
	TokenEndpoint               string   `json:"token_endpoint"`
	RegistrationEndpoint        string   `json:"registration_endpoint,omitempty"`
	DeviceAuthorizationEndpoint string   `json:"device_authorization_endpoint,omitempty"`
	RevocationEndpoint          string   `json:"revocation_endpoint,omitempty"`
	GrantTypesSupported         []string `json:"grant_types_supported,omitempty"`
}

// Discover fetches the homeserver's OAuth 2.0 server metadata
// (MSC4108 "Login via OAuth 2.0 device authorization flow" step 2:
// GET /_matrix/client/v1/auth_metadata), falling back to the MSC2965
// unstable path when the stable one answers 404 or 405 (M_UNRECOGNIZED).
// The result is checked with ParseMetadata, so a server without the
// device_code grant yields ErrDeviceGrantUnsupported.
func Discover(ctx context.Context, hc *http.Client, baseURL string) (*Metadata, error) {
	base := strings.TrimRight(baseURL, "/")
	if _, err := secureurl.Check(base); err != nil {
		return nil, fmt.Errorf("oauth: homeserver base URL: %w", err)
	}
	var lastStatus int
	for _, path := range []string{authMetadataPath, authMetadataUnstablePath} {
		resp, err := get(ctx, hc, base+path)
		if err != nil {
			return nil, err
		}
		switch {
		case resp.status == http.StatusOK:
			return ParseMetadata(resp.body)
		case resp.status == http.StatusNotFound || resp.status == http.StatusMethodNotAllowed:
			lastStatus = resp.status
			continue
		default:
			return nil, fmt.Errorf("%w: %s answered HTTP %d", ErrNoOAuth, path, resp.status)
		}
	}
	return nil, fmt.Errorf("%w (auth_metadata answered HTTP %d)", ErrNoOAuth, lastStatus)
}

// MetadataError says which required metadata field is missing or invalid.
// Err, when set, is the underlying cause, such as ErrInsecureURL.
type MetadataError struct {
	Field  string
	Reason string
	Err    error
}

func (e *MetadataError) Error() string {
	return fmt.Sprintf("oauth: server metadata field %s %s", e.Field, e.Reason)
}

func (e *MetadataError) Unwrap() error { return e.Err }

// ParseMetadata decodes and validates RFC 8414 metadata: issuer and the
// token and device authorization endpoints are required, and every URL
// given (those and the registration and revocation endpoints) must be
// https, or http on a loopback host (ErrInsecureURL); grant_types_supported
// must contain the device_code grant (MSC4108 step 2), else
// ErrDeviceGrantUnsupported.
func ParseMetadata(body []byte) (*Metadata, error) {
	var m Metadata
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("oauth: server metadata is not valid JSON: %w", err)
	}
	if err := checkURL("issuer", m.Issuer, true); err != nil {
		return nil, err
	}
	if !slices.Contains(m.GrantTypesSupported, GrantTypeDeviceCode) || m.DeviceAuthorizationEndpoint == "" {
		return nil, ErrDeviceGrantUnsupported
	}
	for _, f := range []struct {
		name, value string
		required    bool
	}{
		{"token_endpoint", m.TokenEndpoint, true},
		{"device_authorization_endpoint", m.DeviceAuthorizationEndpoint, true},
		{"registration_endpoint", m.RegistrationEndpoint, false},
		{"revocation_endpoint", m.RevocationEndpoint, false},
	} {
		if err := checkURL(f.name, f.value, f.required); err != nil {
			return nil, err
		}
	}
	return &m, nil
}

// checkURL applies the transport rule (ErrInsecureURL) to one URL field.
func checkURL(field, value string, required bool) error {
	if value == "" {
		if required {
			return &MetadataError{Field: field, Reason: "is missing"}
		}
		return nil
	}
	if _, err := secureurl.Check(value); err != nil {
		return &MetadataError{Field: field, Reason: "must use https (plain http only for a loopback host)", Err: err}
	}
	return nil
}
