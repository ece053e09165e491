package devserver

import (
	"errors"
	"fmt"
	"strings"
)

// Matrix OAuth scopes (MSC2967): the C-S API scope and the device scope
// prefix, each in the stable form and in the unstable form rust-sdk sends
// (docs/protocol-divergences.md "Device authorization").
const (
	ScopeAPIStable            = "urn:matrix:client:api:*"
	ScopeAPIUnstable          = "urn:matrix:org.matrix.msc2967.client:api:*"
	ScopeDevicePrefixStable   = "urn:matrix:client:device:"
	ScopeDevicePrefixUnstable = "urn:matrix:org.matrix.msc2967.client:device:"
)

// minDeviceIDLength is MAS's policy minimum for a device ID in a scope.
const minDeviceIDLength = 10

// ErrInvalidScope wraps every reason a scope string is refused; the text
// after it is what the client is told.
var ErrInvalidScope = errors.New("invalid scope")

// scopeGrant is a parsed and policy-checked scope string.
type scopeGrant struct {
	tokens   []string // as requested, in order
	api      bool     // has the C-S API scope
	deviceID string   // from the one device scope; "" when none
	unstable bool     // the Matrix scopes use the msc2967 form
}

// String joins the tokens back into the scope parameter form.
func (g scopeGrant) String() string { return strings.Join(g.tokens, " ") }

// otherAllowedScopes are non-Matrix scopes MAS's policy lets a client ask
// for without extra permissions.
var otherAllowedScopes = map[string]bool{"openid": true, "email": true}

// parseScope parses an RFC 6749 §3.3 scope string and applies MAS's
// authorization_grant policy (docs/protocol-divergences.md "Device
// authorization"): stable and unstable Matrix scopes are never mixed, at most
// one device scope, a device scope needs the API scope, device IDs match
// [A-Za-z0-9._~!$&'()*+,;=:@/-]{10,}, and nothing outside openid/email/the
// Matrix scopes.
func parseScope(raw string) (scopeGrant, error) {
	var g scopeGrant
	if raw == "" {
		return g, fmt.Errorf("%w: no scope requested", ErrInvalidScope)
	}
	var sawStable, sawUnstable bool
	devices := 0
	for _, tok := range strings.Split(raw, " ") {
		if tok == "" {
			return g, fmt.Errorf("%w: empty scope token (two spaces in a row?)", ErrInvalidScope)
		}
		if !validScopeToken(tok) {
			return g, fmt.Errorf("%w: %q has characters RFC 6749 does not allow", ErrInvalidScope, tok)
		}
		g.tokens = append(g.tokens, tok)
		switch {
		case tok == ScopeAPIStable:
			g.api, sawStable = true, true
		case tok == ScopeAPIUnstable:
			g.api, sawUnstable = true, true
		case strings.HasPrefix(tok, ScopeDevicePrefixStable):
			devices++
			sawStable = true
			g.deviceID = strings.TrimPrefix(tok, ScopeDevicePrefixStable)
		case strings.HasPrefix(tok, ScopeDevicePrefixUnstable):
			devices++
			sawUnstable = true
			g.deviceID = strings.TrimPrefix(tok, ScopeDevicePrefixUnstable)
		case otherAllowedScopes[tok]:
		default:
			return g, fmt.Errorf("%w: scope %q is not allowed", ErrInvalidScope, tok)
		}
	}
	if sawStable && sawUnstable {
		return g, fmt.Errorf("%w: stable and unstable (org.matrix.msc2967) Matrix scopes are mixed", ErrInvalidScope)
	}
	if devices > 1 {
		return g, fmt.Errorf("%w: more than one device scope", ErrInvalidScope)
	}
	if devices == 1 {
		if !g.api {
			return g, fmt.Errorf("%w: a device scope needs the C-S API scope", ErrInvalidScope)
		}
		if !validDeviceID(g.deviceID) {
			return g, fmt.Errorf("%w: device ID %q must be at least %d characters of [A-Za-z0-9._~!$&'()*+,;=:@/-]",
				ErrInvalidScope, g.deviceID, minDeviceIDLength)
		}
	}
	g.unstable = sawUnstable
	return g, nil
}

// validScopeToken: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
func validScopeToken(tok string) bool {
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
			return false
		}
	}
	return tok != ""
}

// validDeviceID applies MAS's policy pattern for device IDs in scopes.
func validDeviceID(id string) bool {
	if len(id) < minDeviceIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case strings.IndexByte("._~!$&'()*+,;=:@/-", c) >= 0:
		default:
			return false
		}
	}
	return true
}
