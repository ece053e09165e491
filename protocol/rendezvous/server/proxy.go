package server

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// proxyPolicy decides which headers a reverse proxy sets are believed:
// who the client is (X-Forwarded-For) and where it reached the server
// (X-Forwarded-Proto, X-Forwarded-Host). Anyone can send these headers,
// so they count only from a peer the operator named as a proxy.
type proxyPolicy struct {
	trusted []netip.Prefix
	// anyForwardedFor is Config.TrustForwardedFor: the last
	// X-Forwarded-For entry names the client whatever the peer.
	anyForwardedFor bool
}

func newProxyPolicy(trusted []netip.Prefix, anyForwardedFor bool) proxyPolicy {
	p := proxyPolicy{anyForwardedFor: anyForwardedFor}
	for _, prefix := range trusted {
		if prefix.IsValid() {
			p.trusted = append(p.trusted, prefix.Masked())
		}
	}
	return p
}

// isTrusted reports whether addr is one of the trusted proxies. A zoned
// (link-local) address is compared without its zone.
func (p proxyPolicy) isTrusted(addr netip.Addr) bool {
	addr = addr.Unmap().WithZone("")
	for _, prefix := range p.trusted {
		if prefix.Contains(addr) {
			return true
		}
	}
	return false
}

// peer is the address of the connection's other end, if it parses.
func peer(r *http.Request) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	return addr, err == nil
}

// fromTrustedProxy reports whether the request's peer is a trusted proxy.
func (p proxyPolicy) fromTrustedProxy(r *http.Request) bool {
	if len(p.trusted) == 0 {
		return false
	}
	addr, ok := peer(r)
	return ok && p.isTrusted(addr)
}

// forwardedFor lists the X-Forwarded-For hops in order, over all header
// lines; each proxy appends the address it received the request from.
func forwardedFor(r *http.Request) []string {
	var hops []string
	for _, line := range r.Header.Values("X-Forwarded-For") {
		for _, hop := range strings.Split(line, ",") {
			hops = append(hops, strings.TrimSpace(hop))
		}
	}
	return hops
}

// parseHop reads one X-Forwarded-For entry: an address, possibly with a
// port ("192.0.2.1:4711", "[2001:db8::1]:443") or in brackets.
func parseHop(hop string) (netip.Addr, bool) {
	if addr, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(hop, "["), "]")); err == nil {
		return addr, true
	}
	if addrPort, err := netip.ParseAddrPort(hop); err == nil {
		return addrPort.Addr(), true
	}
	return netip.Addr{}, false
}

// clientKey names the client a request is counted against (addrKey).
//
// From a trusted proxy the client is found by walking X-Forwarded-For
// from the right, past the hops that are trusted proxies themselves: the
// first other hop was written by a trusted proxy and is the client; what
// lies left of it the client may have made up. When every hop is trusted
// the first one is the client; an entry that does not parse stops the
// walk at the trusted hop after it (or the peer). Otherwise, with
// anyForwardedFor, the last entry counts; otherwise the peer.
func (p proxyPolicy) clientKey(r *http.Request) string {
	if addr, ok := peer(r); ok && len(p.trusted) > 0 && p.isTrusted(addr) {
		client := addr
		hops := forwardedFor(r)
		for i := len(hops) - 1; i >= 0; i-- {
			hop, ok := parseHop(hops[i])
			if !ok {
				break
			}
			client = hop
			if !p.isTrusted(hop) {
				break
			}
		}
		return addrKey(client)
	}
	if p.anyForwardedFor {
		if hops := forwardedFor(r); len(hops) > 0 {
			if addr, ok := parseHop(hops[len(hops)-1]); ok {
				return addrKey(addr)
			}
		}
	}
	if addr, ok := peer(r); ok {
		return addrKey(addr)
	}
	return r.RemoteAddr
}

// addrKey is the client key of an address: the address itself, or for
// IPv6 its /64 network, because one host commonly holds a whole /64 and
// could otherwise rotate through fresh buckets and session allowances.
func addrKey(addr netip.Addr) string {
	addr = addr.Unmap().WithZone("")
	if addr.Is4() {
		return addr.String()
	}
	prefix, err := addr.Prefix(64)
	if err != nil {
		return addr.String()
	}
	return prefix.String()
}

// forwardedBase is the base URL (scheme://host) a trusted proxy says the
// client used, from X-Forwarded-Proto and X-Forwarded-Host, each falling
// back to the request's own when missing or malformed. ok is false when
// the peer is not a trusted proxy or sent neither header in a usable form.
// Of a list ("https, http") the first value counts: it is the one the
// client-facing proxy set.
func (p proxyPolicy) forwardedBase(r *http.Request) (base string, ok bool) {
	if !p.fromTrustedProxy(r) {
		return "", false
	}
	scheme, host := requestScheme(r), r.Host
	proto := strings.ToLower(firstForwarded(r, "X-Forwarded-Proto"))
	protoOK := proto == "http" || proto == "https"
	if protoOK {
		scheme = proto
	}
	forwardedHost := firstForwarded(r, "X-Forwarded-Host")
	hostOK := validForwardedHost(forwardedHost)
	if hostOK {
		host = forwardedHost
	}
	if !protoOK && !hostOK {
		return "", false
	}
	return scheme + "://" + host, true
}

// firstForwarded is the first comma-separated value of a header.
func firstForwarded(r *http.Request, name string) string {
	first, _, _ := strings.Cut(r.Header.Get(name), ",")
	return strings.TrimSpace(first)
}

// requestScheme is the scheme the request reached this server with.
func requestScheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// validForwardedHost accepts a DNS name or IPv4 address, or an IPv6
// literal in brackets, optionally with a port: nothing that could turn the
// session URL into another path, user or scheme.
func validForwardedHost(h string) bool {
	if h == "" || len(h) > 262 { // 253 name bytes, ":", 5 port digits, brackets
		return false
	}
	host, port := h, ""
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return false
		}
		addr, err := netip.ParseAddr(h[1:end])
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return false
		}
		rest := h[end+1:]
		if rest == "" {
			return true
		}
		port, ok := strings.CutPrefix(rest, ":")
		return ok && validPort(port)
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		host, port = h[:i], h[i+1:]
		if !validPort(port) {
			return false
		}
	}
	if host == "" {
		return false
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func validPort(port string) bool {
	if port == "" || len(port) > 5 {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n > 0 && n <= 65535 && port[0] != '+' && port[0] != '-'
}
