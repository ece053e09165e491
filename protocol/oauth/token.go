package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const redacted = "[redacted]"

// Token is the result of a token request (RFC 6749 §5.1). Its secrets never
// appear in fmt output or in its JSON encoding, which exist for logs only:
// stores must read AccessToken and RefreshToken explicitly.
type Token struct {
	AccessToken  string
	RefreshToken string    // empty if the server issued none
	TokenType    string    // "Bearer"
	Expiry       time.Time // zero if the server gave no expires_in
	Scope        string    // granted scope, if the server echoed it
}

func (t Token) String() string {
	return fmt.Sprintf("Token{AccessToken:%s RefreshToken:%s TokenType:%q Expiry:%s Scope:%q}",
		secretMarker(t.AccessToken), secretMarker(t.RefreshToken), t.TokenType, t.Expiry.Format(time.RFC3339), t.Scope)
}

// GoString keeps %#v from printing the tokens.
func (t Token) GoString() string { return t.String() }

// MarshalJSON encodes the token for logging, with both secrets redacted.
func (t Token) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		AccessToken  string    `json:"access_token"`
		RefreshToken string    `json:"refresh_token,omitempty"`
		TokenType    string    `json:"token_type,omitempty"`
		Expiry       time.Time `json:"expiry,omitzero"`
		Scope        string    `json:"scope,omitempty"`
	}{secretMarker(t.AccessToken), secretMarker(t.RefreshToken), t.TokenType, t.Expiry, t.Scope})
}

func secretMarker(s string) string {
	if s == "" {
		return ""
	}
	return redacted
}

// ParseToken decodes a successful RFC 6749 §5.1 token response received at
// now. access_token is required; token_type, when present, must be Bearer
// (case-insensitive, RFC 6750). A 200 answer that carries an "error" member
// is reported as *Error.
func ParseToken(body []byte, now time.Time) (*Token, error) {
	var r struct {
		AccessToken  string  `json:"access_token"`
		RefreshToken string  `json:"refresh_token"`
		TokenType    string  `json:"token_type"`
		ExpiresIn    float64 `json:"expires_in"`
		Scope        string  `json:"scope"`
		Error        string  `json:"error"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("oauth: token response is not valid JSON: %w", err)
	}
	if r.Error != "" {
		return nil, parseError("token", http.StatusOK, body)
	}
	if r.AccessToken == "" {
		return nil, &MetadataError{Field: "access_token", Reason: "is missing from the token response"}
	}
	if r.TokenType != "" && !strings.EqualFold(r.TokenType, "bearer") {
		return nil, &MetadataError{Field: "token_type", Reason: "is not Bearer"}
	}
	t := &Token{AccessToken: r.AccessToken, RefreshToken: r.RefreshToken, TokenType: "Bearer", Scope: r.Scope}
	if r.ExpiresIn > 0 {
		t.Expiry = now.Add(clampSeconds(r.ExpiresIn, 10*365*maxExpiresIn))
	}
	return t, nil
}

// requestToken posts form to the token endpoint. Any non-200 body is parsed
// as an RFC 6749 §5.2 error whatever its status (MAS uses 403 for the
// device-grant states, docs/protocol-divergences.md "Token polling").
func (c *Client) requestToken(ctx context.Context, form url.Values, now func() time.Time) (*Token, error) {
	resp, err := postForm(ctx, c.HTTP, c.Metadata.TokenEndpoint, form)
	if err != nil {
		return nil, err
	}
	if resp.status != http.StatusOK {
		return nil, parseError("token", resp.status, resp.body)
	}
	return ParseToken(resp.body, now())
}

// Refresh exchanges a refresh token for new tokens (RFC 6749 §6). MAS
// rotates refresh tokens: the old one stops working once the new one is
// used, so the caller must save the returned Token's RefreshToken before it
// uses the new access token. If the server issued no new refresh token the
// old one stays valid and is returned in its place.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (*Token, error) {
	if refreshToken == "" {
		return nil, errors.New("oauth: no refresh token")
	}
	t, err := c.requestToken(ctx, url.Values{
		"grant_type":    {GrantTypeRefreshToken},
		"refresh_token": {refreshToken},
		"client_id":     {c.ClientID},
	}, time.Now)
	if err != nil {
		return nil, err
	}
	if t.RefreshToken == "" {
		t.RefreshToken = refreshToken
	}
	return t, nil
}

// Token type hints for Revoke (RFC 7009 §2.1).
const (
	HintAccessToken  = "access_token"
	HintRefreshToken = "refresh_token"
)

// ErrRevocationUnsupported: the metadata has no revocation_endpoint.
var ErrRevocationUnsupported = errors.New("oauth: the server has no token revocation endpoint")

// Revoke revokes token at the revocation_endpoint (RFC 7009 §2.1) as a
// public client (client_id in the body). hint is HintAccessToken,
// HintRefreshToken or empty. RFC 7009 §2.2: 200 means revoked or already
// invalid.
func (c *Client) Revoke(ctx context.Context, token, hint string) error {
	if c.Metadata.RevocationEndpoint == "" {
		return ErrRevocationUnsupported
	}
	form := url.Values{"token": {token}, "client_id": {c.ClientID}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	resp, err := postForm(ctx, c.HTTP, c.Metadata.RevocationEndpoint, form)
	if err != nil {
		return err
	}
	if resp.status != http.StatusOK {
		return parseError("revocation", resp.status, resp.body)
	}
	return nil
}
