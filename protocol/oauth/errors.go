package oauth

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/qrlogin/qrlogin/protocol/internal/httpx"
)

// Sentinel errors the login flow maps to MSC4108 messages.
var (
	// ErrDeviceGrantUnsupported: the server's metadata does not list the
	// device_code grant (MSC4108 step 2); the flow answers with
	// m.login.failure reason unsupported_protocol.
	ErrDeviceGrantUnsupported = errors.New("oauth: the server does not offer the device authorization grant")
	// ErrNoOAuth: the homeserver does not publish OAuth 2.0 server metadata
	// (it uses the legacy login API or is not a Matrix server).
	ErrNoOAuth = errors.New("oauth: the homeserver does not offer OAuth 2.0 sign-in")
	// ErrRegistrationUnsupported: no registration_endpoint and no cached
	// client ID, so the app cannot identify itself.
	ErrRegistrationUnsupported = errors.New("oauth: the server does not allow dynamic client registration")
	// ErrAccessDenied: the user declined on the consent page (RFC 8628 §3.5
	// access_denied); the flow sends m.login.declined.
	ErrAccessDenied = errors.New("oauth: the sign-in was declined")
	// ErrAuthorizationExpired: the device code expired before the user
	// consented (RFC 8628 §3.5 expired_token, or our own deadline); the flow
	// sends m.login.failure reason authorization_expired.
	ErrAuthorizationExpired = errors.New("oauth: the sign-in request expired")
)

// maxBodyBytes bounds every response body we read; OAuth responses are a few
// hundred bytes, metadata a few kilobytes.
const maxBodyBytes = 1 << 20

// Error is an OAuth 2.0 error response (RFC 6749 §5.2, RFC 8628 §3.5,
// RFC 7591 §3.2.2) or a non-success HTTP answer without one. Code is empty
// when the body was not an OAuth error object.
type Error struct {
	Endpoint    string // which call failed: "token", "device_authorization", ...
	Status      int    // HTTP status code
	Code        string // the "error" member, e.g. "invalid_grant"
	Description string // the "error_description" member, if any
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("oauth: %s endpoint answered HTTP %d", e.Endpoint, e.Status)
	if e.Code != "" {
		msg += ": " + e.Code
	}
	if e.Description != "" {
		msg += " (" + e.Description + ")"
	}
	return msg
}

// errorBody is the RFC 6749 §5.2 error object.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// parseError turns any non-success body into *Error, whatever the status:
// matrix-authentication-service uses 403 where RFC 8628 says 400
// (docs/protocol-divergences.md "Token polling"). A body that is not an
// error object still yields an *Error with an empty Code.
func parseError(endpoint string, status int, body []byte) *Error {
	e := &Error{Endpoint: endpoint, Status: status}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil {
		e.Code = eb.Error
		e.Description = httpx.Clip(eb.Description, 200)
	}
	return e
}
