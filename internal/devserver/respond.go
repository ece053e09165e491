package devserver

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// writeJSON answers with a JSON body. Marshalling our own response types
// cannot fail; if it ever did, the client gets a 500 instead of half a body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"errcode":"M_UNKNOWN","error":"internal error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// matrixError is the Matrix client-server error body.
type matrixError struct {
	ErrCode      string `json:"errcode"`
	Error        string `json:"error"`
	RetryAfterMS int64  `json:"retry_after_ms,omitempty"`
	SoftLogout   bool   `json:"soft_logout,omitempty"`
}

func writeMatrixError(w http.ResponseWriter, status int, errcode, message string) {
	writeJSON(w, status, matrixError{ErrCode: errcode, Error: message})
}

// oauthError is the OAuth 2.0 error body (RFC 6749 §5.2, RFC 7591 §3.2.2,
// RFC 8628 §3.5).
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// OAuth error codes used by MAS on the endpoints served here.
const (
	errInvalidRequest        = "invalid_request"
	errInvalidClient         = "invalid_client"
	errInvalidGrant          = "invalid_grant"
	errInvalidScope          = "invalid_scope"
	errUnauthorizedClient    = "unauthorized_client"
	errUnsupportedGrantType  = "unsupported_grant_type"
	errAuthorizationPending  = "authorization_pending"
	errAccessDenied          = "access_denied"
	errExpiredToken          = "expired_token"
	errInvalidClientMetadata = "invalid_client_metadata"
	errInvalidRedirectURI    = "invalid_redirect_uri"
)

func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, oauthError{Error: code, Description: description})
}

// notFound answers unknown paths the way Synapse does.
func notFound(w http.ResponseWriter, _ *http.Request) {
	writeMatrixError(w, http.StatusNotFound, "M_UNRECOGNIZED", "Unrecognized request")
}
