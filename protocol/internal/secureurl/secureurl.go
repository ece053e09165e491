// Package secureurl is the one transport rule for every URL the protocol
// clients call or hand on: https, or plain http for a loopback host only
// (127.0.0.0/8, ::1, localhost), where there is nothing on the way to
// intercept. The rendezvous clients and the OAuth client both apply it
// (README "http:// is accepted only for loopback hosts"). It imports
// nothing of the project.
package secureurl

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ErrInsecure: a URL is not https and its host is not loopback, or it is
// not an absolute URL with a host. Errors from Check match it with
// errors.Is.
var ErrInsecure = errors.New("insecure URL (http:// is allowed only for loopback hosts)")

// Check parses raw and applies the rule. A URL with user info is refused
// too: nothing here has a reason to send a password in a URL.
func Check(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, errors.Join(ErrInsecure, err)
	}
	if u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("%w: %s is not an absolute URL with a host", ErrInsecure, quote(raw))
	}
	switch u.Scheme { // url.Parse lower-cases the scheme
	case "https":
		return u, nil
	case "http":
		if IsLoopbackHost(u.Hostname()) {
			return u, nil
		}
	}
	return nil, fmt.Errorf("%w: refusing %s", ErrInsecure, quote(raw))
}

// IsLoopbackHost reports whether host (no port, no brackets) is a loopback
// name or address: localhost, 127.0.0.0/8 or ::1.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// quote keeps a hostile URL from flooding an error message.
func quote(s string) string {
	if len(s) > 200 {
		s = s[:200]
	}
	return fmt.Sprintf("%q", s)
}
