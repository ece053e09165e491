package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// RFC 8628 §3.2 / §3.5 defaults and bounds.
const (
	defaultInterval = 5 * time.Second
	slowDownStep    = 5 * time.Second
	maxInterval     = 60 * time.Second
	maxExpiresIn    = 24 * time.Hour
)

// Client talks to one authorization server as one registered client.
type Client struct {
	HTTP     *http.Client // nil means http.DefaultClient
	Metadata *Metadata
	ClientID string
}

// DeviceAuthorization is an RFC 8628 §3.2 device authorization response.
// DeviceCode is a credential; String and GoString never print it.
type DeviceAuthorization struct {
	DeviceCode              string
	UserCode                string
	VerificationURI         string
	VerificationURIComplete string        // optional; MAS omits it by default
	ExpiresIn               time.Duration // lifetime of the device code
	Interval                time.Duration // minimum wait between polls (default 5 s)
	Expiry                  time.Time     // when the device code dies; zero if unknown
}

func (d DeviceAuthorization) String() string {
	return fmt.Sprintf("DeviceAuthorization{DeviceCode:[redacted] UserCode:%q VerificationURI:%q VerificationURIComplete:%q ExpiresIn:%s Interval:%s Expiry:%s}",
		d.UserCode, d.VerificationURI, d.VerificationURIComplete, d.ExpiresIn, d.Interval, d.Expiry.Format(time.RFC3339))
}

// GoString keeps %#v from printing the device code.
func (d DeviceAuthorization) GoString() string { return d.String() }

// StartDeviceAuthorization sends the RFC 8628 §3.1 device authorization
// request (client_id and scope, form-encoded) to the
// device_authorization_endpoint (MSC4108 step 2). Use Scopes to build the
// scope list.
func (c *Client) StartDeviceAuthorization(ctx context.Context, scopes []string) (*DeviceAuthorization, error) {
	form := url.Values{"client_id": {c.ClientID}, "scope": {strings.Join(scopes, " ")}}
	resp, err := postForm(ctx, c.HTTP, c.Metadata.DeviceAuthorizationEndpoint, form)
	if err != nil {
		return nil, err
	}
	if resp.status != http.StatusOK {
		return nil, parseError("device_authorization", resp.status, resp.body)
	}
	d, err := ParseDeviceAuthorization(resp.body)
	if err != nil {
		return nil, err
	}
	d.Expiry = time.Now().Add(d.ExpiresIn)
	return d, nil
}

// ParseDeviceAuthorization decodes and validates an RFC 8628 §3.2 response:
// device_code, user_code, verification_uri and a positive expires_in are
// required; both verification URIs must be https, or http on a loopback
// host (ErrInsecureURL), since the phone's browser opens them; interval defaults to 5 s. Absurd values are
// clamped (interval ≤ 60 s, expires_in ≤ 24 h) so a hostile server cannot
// make us wait forever.
func ParseDeviceAuthorization(body []byte) (*DeviceAuthorization, error) {
	var r struct {
		DeviceCode              string  `json:"device_code"`
		UserCode                string  `json:"user_code"`
		VerificationURI         string  `json:"verification_uri"`
		VerificationURIComplete string  `json:"verification_uri_complete"`
		ExpiresIn               float64 `json:"expires_in"`
		Interval                float64 `json:"interval"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("oauth: device authorization response is not valid JSON: %w", err)
	}
	switch {
	case r.DeviceCode == "":
		return nil, &MetadataError{Field: "device_code", Reason: "is missing"}
	case r.UserCode == "" || len(r.UserCode) > 64:
		return nil, &MetadataError{Field: "user_code", Reason: "is missing or too long"}
	case r.ExpiresIn <= 0:
		return nil, &MetadataError{Field: "expires_in", Reason: "is missing or not positive"}
	case r.Interval < 0:
		return nil, &MetadataError{Field: "interval", Reason: "is negative"}
	}
	if err := checkURL("verification_uri", r.VerificationURI, true); err != nil {
		return nil, err
	}
	if err := checkURL("verification_uri_complete", r.VerificationURIComplete, false); err != nil {
		return nil, err
	}
	d := &DeviceAuthorization{
		DeviceCode:              r.DeviceCode,
		UserCode:                r.UserCode,
		VerificationURI:         r.VerificationURI,
		VerificationURIComplete: r.VerificationURIComplete,
		ExpiresIn:               clampSeconds(r.ExpiresIn, maxExpiresIn),
		Interval:                clampSeconds(r.Interval, maxInterval),
	}
	if d.Interval <= 0 {
		d.Interval = defaultInterval
	}
	return d, nil
}

func clampSeconds(s float64, limit time.Duration) time.Duration {
	if s >= limit.Seconds() {
		return limit
	}
	return time.Duration(s * float64(time.Second))
}
