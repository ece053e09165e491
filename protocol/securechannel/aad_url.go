package securechannel

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// ErrBaseURL is matched (errors.Is) when a homeserver base URL cannot be put
// into the MSC4388 AAD. It also matches ErrAAD.
var ErrBaseURL = fmt.Errorf("%w: invalid homeserver base URL", ErrAAD)

func baseURLError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBaseURL}, args...)...)
}

// NormalizeBaseURL returns the homeserver base URL as the WHATWG URL parser
// (Rust's url crate, which rust-sdk uses) serialises it. rust-sdk binds that
// serialisation, not the QR string, into every AAD: the QR carries
// "https://matrix-client.matrix.org" while the AAD has
// "https://matrix-client.matrix.org/" (docs/protocol-divergences.md "Base
// URL in the AAD"). So both sides must normalise, or the first open fails.
//
// Covered, for the http and https schemes only: leading/trailing C0 controls
// and spaces trimmed, tabs and newlines removed; scheme and host lower-cased;
// extra or back slashes after the scheme accepted; default port dropped,
// leading zeros of a port removed; WHATWG IPv4 forms (hex, octal, fewer
// parts) and IPv6 literals re-serialised; non-ASCII hosts converted with
// UTS #46 (golang.org/x/net/idna, non-transitional); dot segments resolved
// and the path percent-encoded with the url crate's path set; an empty path
// becomes "/".
//
// Not covered (deliberately refused with ErrBaseURL, since a homeserver base
// URL has none of them): user info, a query, a fragment, other schemes.
// Skipped: the UTS #46 validation that WHATWG also runs on pure-ASCII hosts
// without "xn--" labels; for those the result is the same lower-casing, only
// some exotic invalid names are accepted where the url crate would refuse.
func NormalizeBaseURL(raw string) (string, error) {
	s := strings.TrimFunc(raw, func(r rune) bool { return r <= ' ' })
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s)

	colon := strings.IndexByte(s, ':')
	if colon <= 0 || !validScheme(s[:colon]) {
		return "", baseURLError("%q has no scheme", raw)
	}
	scheme := strings.ToLower(s[:colon])
	var defaultPort string
	switch scheme {
	case "https":
		defaultPort = "443"
	case "http":
		defaultPort = "80"
	default:
		return "", baseURLError("scheme %q is not http or https", scheme)
	}

	// Special schemes ignore any run of slashes and backslashes before the
	// authority ("special authority ignore slashes state").
	rest := strings.TrimLeft(s[colon+1:], `/\`)
	authority, tail := rest, ""
	if end := strings.IndexAny(rest, `/\?#`); end >= 0 {
		authority, tail = rest[:end], rest[end:]
	}
	if strings.ContainsRune(authority, '@') {
		return "", baseURLError("%q contains user info", raw)
	}
	if strings.ContainsAny(tail, "?#") {
		return "", baseURLError("%q has a query or fragment", raw)
	}
	hostPart, portPart, err := splitHostPort(authority)
	if err != nil {
		return "", err
	}
	host, err := serializeHost(hostPart)
	if err != nil {
		return "", err
	}
	port, err := normalizePort(portPart, defaultPort)
	if err != nil {
		return "", err
	}

	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(host)
	if port != "" {
		b.WriteByte(':')
		b.WriteString(port)
	}
	b.WriteString(serializePath(tail))
	return b.String(), nil
}

func validScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// splitHostPort splits at the first ':' outside an IPv6 literal, as the
// WHATWG host state does.
func splitHostPort(authority string) (host, port string, err error) {
	if strings.HasPrefix(authority, "[") {
		end := strings.IndexByte(authority, ']')
		if end < 0 {
			return "", "", baseURLError("unterminated IPv6 literal %q", authority)
		}
		host, after := authority[:end+1], authority[end+1:]
		switch {
		case after == "":
			return host, "", nil
		case after[0] == ':':
			return host, after[1:], nil
		default:
			return "", "", baseURLError("unexpected %q after the IPv6 literal", after)
		}
	}
	if i := strings.IndexByte(authority, ':'); i >= 0 {
		return authority[:i], authority[i+1:], nil
	}
	return authority, "", nil
}

func normalizePort(p, defaultPort string) (string, error) {
	if p == "" {
		return "", nil
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return "", baseURLError("port %q is not a number", p)
		}
	}
	p = strings.TrimLeft(p, "0")
	if p == "" {
		p = "0"
	}
	if len(p) > 5 {
		return "", baseURLError("port %s is out of range", p)
	}
	n, _ := strconv.Atoi(p)
	if n > 65535 {
		return "", baseURLError("port %d is out of range", n)
	}
	if p == defaultPort {
		return "", nil
	}
	return p, nil
}

// whatwgIDNA is UTS #46 ToASCII with the WHATWG URL settings: non-transitional,
// CheckBidi and CheckJoiners on, CheckHyphens, UseSTD3ASCIIRules and
// VerifyDnsLength off. Option order matters: MapForLookup switches some on.
var whatwgIDNA = idna.New(
	idna.MapForLookup(),
	idna.Transitional(false),
	idna.BidiRule(),
	idna.CheckJoiners(true),
	idna.CheckHyphens(false),
	idna.StrictDomainName(false),
	idna.VerifyDNSLength(false),
)

func serializeHost(h string) (string, error) {
	if h == "" {
		return "", baseURLError("no host")
	}
	if strings.HasPrefix(h, "[") {
		if !strings.HasSuffix(h, "]") {
			return "", baseURLError("unterminated IPv6 literal %q", h)
		}
		addr, err := netip.ParseAddr(h[1 : len(h)-1])
		if err != nil || !addr.Is6() || addr.Zone() != "" || !strings.Contains(h, ":") {
			return "", baseURLError("invalid IPv6 literal %q", h)
		}
		return "[" + serializeIPv6(addr) + "]", nil
	}
	decoded := percentDecode(h)
	if !utf8.ValidString(decoded) {
		return "", baseURLError("host %q is not UTF-8", h)
	}
	ascii := decoded
	if !isASCII(decoded) || hasPunycodeLabel(decoded) {
		var err error
		ascii, err = whatwgIDNA.ToASCII(decoded)
		if err != nil {
			return "", baseURLError("host %q is not a valid domain name", h)
		}
	} else {
		ascii = strings.ToLower(decoded)
	}
	if ascii == "" {
		return "", baseURLError("empty host in %q", h)
	}
	for i := 0; i < len(ascii); i++ {
		if isForbiddenDomainByte(ascii[i]) {
			return "", baseURLError("host %q contains a forbidden character", h)
		}
	}
	if endsInNumber(ascii) {
		ip, ok := parseIPv4(ascii)
		if !ok {
			return "", baseURLError("host %q is not a valid IPv4 address", h)
		}
		return ip, nil
	}
	return ascii, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func hasPunycodeLabel(s string) bool {
	for _, label := range strings.Split(s, ".") {
		if len(label) >= 4 && strings.EqualFold(label[:4], "xn--") {
			return true
		}
	}
	return false
}

// isForbiddenDomainByte is the WHATWG "forbidden domain code point" set.
func isForbiddenDomainByte(c byte) bool {
	if c <= 0x1f || c == 0x7f {
		return true
	}
	return strings.IndexByte(" #%/:<>?@[\\]^|", c) >= 0
}

// percentDecode turns %XX into the byte and leaves any other '%' alone, as
// WHATWG percent-decoding does.
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		out = append(out, s[i])
	}
	return string(out)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// endsInNumber is the WHATWG "ends in a number" check that sends a host to
// the IPv4 parser.
func endsInNumber(h string) bool {
	parts := strings.Split(h, ".")
	if parts[len(parts)-1] == "" {
		if len(parts) == 1 {
			return false
		}
		parts = parts[:len(parts)-1]
	}
	last := parts[len(parts)-1]
	if last != "" && strings.Trim(last, "0123456789") == "" {
		return true
	}
	_, ok := parseIPv4Number(last)
	return ok
}

// parseIPv4Number reads one WHATWG IPv4 part: 0x-prefixed hex, 0-prefixed
// octal, or decimal.
func parseIPv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	base := 10
	switch {
	case len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X"):
		s, base = s[2:], 16
	case len(s) >= 2 && s[0] == '0':
		s, base = s[1:], 8
	}
	if s == "" {
		return 0, true
	}
	n, err := strconv.ParseUint(s, base, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

func parseIPv4(h string) (string, bool) {
	parts := strings.Split(h, ".")
	if parts[len(parts)-1] == "" && len(parts) > 1 {
		parts = parts[:len(parts)-1]
	}
	if len(parts) > 4 {
		return "", false
	}
	nums := make([]uint64, len(parts))
	for i, p := range parts {
		n, ok := parseIPv4Number(p)
		if !ok {
			return "", false
		}
		if i < len(parts)-1 && n > 255 {
			return "", false
		}
		nums[i] = n
	}
	last := nums[len(nums)-1]
	if last >= 1<<(8*(5-len(nums))) {
		return "", false
	}
	ipv4 := last
	for i, n := range nums[:len(nums)-1] {
		ipv4 += n << (8 * (3 - i))
	}
	return fmt.Sprintf("%d.%d.%d.%d", byte(ipv4>>24), byte(ipv4>>16), byte(ipv4>>8), byte(ipv4)), true
}

// serializeIPv6 writes eight lower-case hex pieces, compressing the first
// longest run of two or more zero pieces (WHATWG IPv6 serializer; unlike
// netip it never writes an embedded dotted IPv4 tail).
func serializeIPv6(addr netip.Addr) string {
	b := addr.As16()
	var pieces [8]uint16
	for i := range pieces {
		pieces[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	bestStart, bestLen := -1, 1
	for i := 0; i < 8; {
		if pieces[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && pieces[j] == 0 {
			j++
		}
		if j-i > bestLen {
			bestStart, bestLen = i, j-i
		}
		i = j
	}
	var sb strings.Builder
	for i := 0; i < 8; i++ {
		if i == bestStart {
			if i == 0 {
				sb.WriteString("::")
			} else {
				sb.WriteByte(':')
			}
			i += bestLen - 1
			continue
		}
		sb.WriteString(strconv.FormatUint(uint64(pieces[i]), 16))
		if i < 7 {
			sb.WriteByte(':')
		}
	}
	return sb.String()
}

// serializePath runs the WHATWG path state for a special URL: '\' counts as
// '/', "." and ".." segments (also as %2e) are resolved, every other byte is
// percent-encoded with the url crate's PATH set, and an empty path becomes "/".
func serializePath(p string) string {
	if p != "" && (p[0] == '/' || p[0] == '\\') {
		p = p[1:]
	}
	var segments []string
	var buf strings.Builder
	for i := 0; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' && p[i] != '\\' {
			appendPathByte(&buf, p[i])
			continue
		}
		atEnd := i == len(p)
		seg := buf.String()
		buf.Reset()
		switch {
		case isDoubleDotSegment(seg):
			if len(segments) > 0 {
				segments = segments[:len(segments)-1]
			}
			if atEnd {
				segments = append(segments, "")
			}
		case isSingleDotSegment(seg):
			if atEnd {
				segments = append(segments, "")
			}
		default:
			segments = append(segments, seg)
		}
	}
	if len(segments) == 0 {
		return "/"
	}
	return "/" + strings.Join(segments, "/")
}

func isSingleDotSegment(s string) bool {
	return s == "." || strings.EqualFold(s, "%2e")
}

func isDoubleDotSegment(s string) bool {
	switch strings.ToLower(s) {
	case "..", ".%2e", "%2e.", "%2e%2e":
		return true
	}
	return false
}

func appendPathByte(b *strings.Builder, c byte) {
	const upperHex = "0123456789ABCDEF"
	if c <= 0x20 || c >= 0x7f || strings.IndexByte("\"<>`#?{}", c) >= 0 {
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&0xf])
		return
	}
	b.WriteByte(c)
}
