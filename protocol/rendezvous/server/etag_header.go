package server

import "errors"

// errBadEntityTags is returned for an If-Match / If-None-Match value that
// is not "*" or a list of entity tags.
var errBadEntityTags = errors.New("rendezvous server: malformed entity-tag list")

// etagListMatches evaluates an If-Match or If-None-Match field value
// (RFC 9110 §13.1.1, §13.1.2) against current, a quoted strong entity tag.
// weak selects the comparison: If-None-Match uses the weak one (W/"x"
// matches "x"), If-Match the strong one (a weak tag never matches). "*"
// matches any current tag. The grammar:
//
//	field      = "*" / 1#entity-tag
//	entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE
//	etagc      = %x21 / %x23-7E / %x80-FF
//
// Unquoted values are refused, as Synapse refuses them with 400
// (docs/protocol-divergences.md "ETag handling"). It scans without
// allocating.
func etagListMatches(field, current string, weak bool) (bool, error) {
	isOWS := func(c byte) bool { return c == ' ' || c == '\t' }
	start, end := 0, len(field)
	for start < end && isOWS(field[start]) {
		start++
	}
	for end > start && isOWS(field[end-1]) {
		end--
	}
	if field[start:end] == "*" {
		return true, nil
	}
	matched, tags := false, 0
	i := start
	for {
		// Empty list elements (",,") are allowed and ignored (RFC 9110 §5.6.1).
		for i < end && (isOWS(field[i]) || field[i] == ',') {
			i++
		}
		if i == end {
			break
		}
		isWeak := false
		if end-i >= 2 && field[i] == 'W' && field[i+1] == '/' {
			isWeak = true
			i += 2
		}
		if i == end || field[i] != '"' {
			return false, errBadEntityTags
		}
		tagStart := i
		i++
		for i < end && field[i] != '"' {
			if c := field[i]; c < 0x21 || c == 0x7f {
				return false, errBadEntityTags
			}
			i++
		}
		if i == end {
			return false, errBadEntityTags // unterminated
		}
		i++
		tags++
		if field[tagStart:i] == current && (weak || !isWeak) {
			matched = true
		}
		for i < end && isOWS(field[i]) {
			i++
		}
		if i < end && field[i] != ',' {
			return false, errBadEntityTags
		}
	}
	if tags == 0 {
		return false, errBadEntityTags
	}
	return matched, nil
}
