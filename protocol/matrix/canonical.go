package matrix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Canonical JSON (Matrix spec appendix "Canonical JSON"): no insignificant
// whitespace, object keys sorted by Unicode code point, strings as UTF-8
// with only the mandatory escapes, integers only, in [-(2^53)+1, 2^53-1].
//
// mautrix's canonicaljson package was tested and not used: it keeps -0 and
// 1e10 as written (the spec example requires 0 and 10000000000), accepts
// fractions, and writes \u001F where Synapse writes \u001f.

const maxCanonicalInteger = 1<<53 - 1

// ErrNotCanonicalizable is wrapped by every Canonicalize failure.
var ErrNotCanonicalizable = errors.New("matrix: JSON cannot be written as canonical JSON")

// maxCanonicalDepth bounds nesting so hostile input cannot exhaust the stack.
const maxCanonicalDepth = 64

// Canonicalize re-encodes one JSON value as canonical JSON. It rejects
// duplicate keys, invalid UTF-8, non-integers and out-of-range integers.
func Canonicalize(in []byte) ([]byte, error) {
	if !utf8.Valid(in) {
		// encoding/json would silently turn it into U+FFFD.
		return nil, fmt.Errorf("%w: invalid UTF-8", ErrNotCanonicalizable)
	}
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber()
	var out bytes.Buffer
	if err := canonicalValue(dec, &out, 0); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotCanonicalizable, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data", ErrNotCanonicalizable)
	}
	return out.Bytes(), nil
}

// CanonicalJSON marshals v with encoding/json and canonicalizes the result.
func CanonicalJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return Canonicalize(b)
}

func canonicalValue(dec *json.Decoder, out *bytes.Buffer, depth int) error {
	if depth > maxCanonicalDepth {
		return errors.New("nesting too deep")
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			out.WriteByte('[')
			for i := 0; dec.More(); i++ {
				if i > 0 {
					out.WriteByte(',')
				}
				if err := canonicalValue(dec, out, depth+1); err != nil {
					return err
				}
			}
			_, err := dec.Token() // ']'
			out.WriteByte(']')
			return err
		}
		return canonicalObject(dec, out, depth)
	case string:
		return writeCanonicalString(out, t)
	case json.Number:
		return writeCanonicalNumber(out, t)
	case bool:
		out.WriteString(strconv.FormatBool(t))
	case nil:
		out.WriteString("null")
	}
	return nil
}

func canonicalObject(dec *json.Decoder, out *bytes.Buffer, depth int) error {
	type member struct {
		key   string
		value []byte
	}
	var members []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		var v bytes.Buffer
		if err := canonicalValue(dec, &v, depth+1); err != nil {
			return err
		}
		members = append(members, member{key, v.Bytes()})
	}
	if _, err := dec.Token(); err != nil { // '}'
		return err
	}
	// Byte order of UTF-8 equals code point order.
	slices.SortFunc(members, func(a, b member) int { return cmpStrings(a.key, b.key) })
	out.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			if members[i-1].key == m.key {
				return fmt.Errorf("duplicate key %q", m.key)
			}
			out.WriteByte(',')
		}
		if err := writeCanonicalString(out, m.key); err != nil {
			return err
		}
		out.WriteByte(':')
		out.Write(m.value)
	}
	out.WriteByte('}')
	return nil
}

func cmpStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// writeCanonicalNumber writes an integer in shortest form ("-0" → "0",
// "1e10" → "10000000000"); fractions and out-of-range values are errors.
func writeCanonicalNumber(out *bytes.Buffer, n json.Number) error {
	if len(n) > 400 {
		return errors.New("number too long")
	}
	// big.Rat would compute 10^exponent: bound it so "1e999999999" cannot
	// stall us. Any integer in range needs |exponent| < 400 with ≤ 400 chars.
	if i := strings.IndexAny(string(n), "eE"); i >= 0 {
		if exp, err := strconv.Atoi(strings.TrimPrefix(string(n[i+1:]), "+")); err != nil || exp > 400 || exp < -400 {
			return fmt.Errorf("%.40s is not an integer in range", n)
		}
	}
	r, ok := new(big.Rat).SetString(string(n))
	if !ok || !r.IsInt() {
		return fmt.Errorf("%s is not an integer", n)
	}
	i := r.Num()
	if i.CmpAbs(big.NewInt(maxCanonicalInteger)) > 0 {
		return fmt.Errorf("%s is out of the canonical JSON integer range", n)
	}
	out.WriteString(strconv.FormatInt(i.Int64(), 10))
	return nil
}

func writeCanonicalString(out *bytes.Buffer, s string) error {
	out.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			out.WriteString(`\"`)
		case '\\':
			out.WriteString(`\\`)
		case '\b':
			out.WriteString(`\b`)
		case '\f':
			out.WriteString(`\f`)
		case '\n':
			out.WriteString(`\n`)
		case '\r':
			out.WriteString(`\r`)
		case '\t':
			out.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(out, `\u%04x`, r)
			} else {
				out.WriteRune(r)
			}
		}
	}
	out.WriteByte('"')
	return nil
}
