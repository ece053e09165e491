package qrcode

import (
	"errors"
	"strings"
	"testing"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

func isFormat(err, sentinel error) bool {
	var fe *FormatError
	return errors.As(err, &fe) && errors.Is(err, sentinel)
}

// edit returns a copy of b with b[i:i+n] replaced by repl.
func edit(b []byte, i, n int, repl ...byte) []byte {
	out := append([]byte{}, b[:i]...)
	out = append(out, repl...)
	return append(out, b[i+n:]...)
}

func TestDecodeErrors(t *testing.T) {
	vs := publishedVectors(t)
	stable, unstable, twoByte, v2024new, v2024old := vs[0].payload, vs[2].payload, vs[3].payload, vs[8].payload, vs[9].payload
	const (
		typeAt   = 6      // after MATRIX
		idLenAt  = 6 + 34 // after MATRIX, type, intent, key
		uidLenAt = 18 + 34
	)
	urlLenAt := idLenAt + 1 + len(mscID)
	cases := []struct {
		name      string
		in        []byte
		want      error
		wantField string
	}{
		{"empty", nil, ErrTruncated, "prefix"},
		{"half a prefix", []byte("IO_ELEM"), ErrTruncated, "prefix"},
		{"other prefix", []byte("MATRIY\x03\x00"), ErrBadPrefix, "prefix"},
		{"device verification QR", append([]byte("MATRIX\x02\x00"), make([]byte, 80)...), ErrUnknownIntent, "mode"},
		{"prefix only", []byte("MATRIX"), ErrTruncated, "type"},
		{"type 0x01", edit(stable, typeAt, 1, 0x01), ErrUnknownType, "type"},
		{"type 0x04", edit(stable, typeAt, 1, 0x04), ErrUnknownType, "type"},
		{"unstable prefix with 2024 version", edit(unstable, 18, 1, 0x02), ErrUnknownType, "type"},
		{"intent 0x02", edit(stable, typeAt+1, 1, 0x02), ErrUnknownIntent, "intent"},
		{"2024 mode 0x05", edit(v2024new, 7, 1, 0x05), ErrUnknownIntent, "mode"},
		{"no intent", stable[:typeAt+1], ErrTruncated, "intent"},
		{"short key", stable[:typeAt+20], ErrTruncated, "public key"},
		{"no ID length", stable[:idLenAt], ErrTruncated, "rendezvous ID length"},
		{"short ID", stable[:idLenAt+10], ErrTruncated, "rendezvous ID"},
		{"no URL length", stable[:urlLenAt], ErrTruncated, "base URL length"},
		{"short URL", stable[:len(stable)-1], ErrTruncated, "base URL"},
		{"short URL, 2-byte form", twoByte[:len(twoByte)-1], ErrTruncated, "base URL"},
		{"trailing byte", append(append([]byte{}, stable...), 0), ErrTrailingBytes, "end of payload"},
		{"trailing byte, 2-byte form", append(append([]byte{}, twoByte...), 'x'), ErrTrailingBytes, "end of payload"},
		{"empty ID", edit(stable, idLenAt, 1+len(mscID), 0), ErrBadID, "rendezvous ID"},
		{"ID with slash", edit(stable, idLenAt+2, 1, '/'), ErrBadID, "rendezvous ID"},
		{"ID not UTF-8", edit(stable, idLenAt+2, 1, 0xff), ErrInvalidUTF8, "rendezvous ID"},
		{"2-byte ID length 256 but 36 bytes follow", edit(twoByte, uidLenAt, 2, 0x01, 0x00), ErrBadID, "rendezvous ID"},
		{"2-byte ID of 256 bytes", edit(twoByte, uidLenAt, 2+len(mscID), append([]byte{0x01, 0x00}, strings.Repeat("a", 256)...)...), ErrIDTooLong, "rendezvous ID length"},
		{"1-byte ID of 255 bytes, truncated", edit(stable, idLenAt, 1+len(mscID), append([]byte{0xff}, strings.Repeat("a", 200)...)...), ErrTruncated, "rendezvous ID"},
		{"URL not UTF-8", edit(stable, len(stable)-1, 1, 0xc3), ErrInvalidUTF8, "base URL"},
		{"URL not http", edit(stable, urlLenAt+2, 5, []byte("ftp")...), ErrTruncated, "base URL"},
		{"2024 URL not UTF-8", edit(v2024new, len(v2024new)-1, 1, 0x80), ErrInvalidUTF8, "rendezvous URL"},
		{"2024 mode 0x04 without server name", edit(v2024new, 7, 1, 0x04), ErrTruncated, "server name length"},
		{"2024 mode 0x03 with server name", edit(v2024old, 7, 1, 0x03), ErrTrailingBytes, "end of payload"},
		{"2024 server name with space", edit(v2024old, len(v2024old)-1, 1, ' '), ErrBadServerName, "server name"},
		{"2024 server name not UTF-8", edit(v2024old, len(v2024old)-1, 1, 0xfe), ErrInvalidUTF8, "server name"},
		{"2024 server URL not http", edit(v2024old, len(v2024old)-10, 10, []byte("ws://x.org")...), ErrNotHTTPURL, "server name"},
	}
	// An http-less URL of the same length, so only the scheme is wrong.
	ftp := edit(stable, urlLenAt+2, 8, []byte("ftp://ab")...)
	cases = append(cases, struct {
		name      string
		in        []byte
		want      error
		wantField string
	}{"URL scheme ftp", ftp, ErrNotHTTPURL, "base URL"})
	noHost := edit(stable, urlLenAt+2, 32, []byte("https:/matrix-client.matrix.org/")...)
	cases = append(cases, struct {
		name      string
		in        []byte
		want      error
		wantField string
	}{"URL without host", noHost, ErrNotHTTPURL, "base URL"})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Decode(c.in)
			if !isFormat(err, c.want) {
				t.Fatalf("Decode = %+v, %v; want %v", p, err, c.want)
			}
			var fe *FormatError
			errors.As(err, &fe)
			if fe.Field != c.wantField {
				t.Errorf("field %q, want %q (%v)", fe.Field, c.wantField, err)
			}
			if !strings.HasPrefix(err.Error(), "qrcode: ") || !strings.Contains(err.Error(), c.want.Error()) {
				t.Errorf("message %q", err)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	base := publishedVectors(t)[0].want
	old2024 := publishedVectors(t)[9].want
	with := func(p Payload, f func(*Payload)) Payload { f(&p); return p }
	cases := []struct {
		name string
		p    Payload
		want error
	}{
		{"no generation", with(base, func(p *Payload) { p.Generation = "" }), ErrUnknownType},
		{"unknown generation", with(base, func(p *Payload) { p.Generation = vocab.Generation("v3") }), ErrUnknownType},
		{"intent 2", with(base, func(p *Payload) { p.Intent = 2 }), ErrUnknownIntent},
		{"2024 intent 7", with(old2024, func(p *Payload) { p.Intent = 7 }), ErrUnknownIntent},
		{"ID 256 bytes", with(base, func(p *Payload) { p.RendezvousID = strings.Repeat("a", 256) }), ErrIDTooLong},
		{"ID empty", with(base, func(p *Payload) { p.RendezvousID = "" }), ErrBadID},
		{"ID with space", with(base, func(p *Payload) { p.RendezvousID = "a b" }), ErrBadID},
		{"ID not UTF-8", with(base, func(p *Payload) { p.RendezvousID = "a\xff" }), ErrInvalidUTF8},
		{"ID length width 3", with(base, func(p *Payload) { p.IDLengthWidth = 3 }), ErrUnknownType},
		{"URL 65536 bytes", with(base, func(p *Payload) { p.BaseURL = "https://a.org/" + strings.Repeat("a", 65536-14) }), ErrURLTooLong},
		{"URL not UTF-8", with(base, func(p *Payload) { p.BaseURL = "https://a.org/\xc3" }), ErrInvalidUTF8},
		{"URL not http", with(base, func(p *Payload) { p.BaseURL = "matrix.org" }), ErrNotHTTPURL},
		{"URL javascript", with(base, func(p *Payload) { p.BaseURL = "javascript:alert(1)" }), ErrNotHTTPURL},
		{"URL empty", with(base, func(p *Payload) { p.BaseURL = "" }), ErrNotHTTPURL},
		{"2024 rendezvous URL 65536 bytes", with(old2024, func(p *Payload) { p.RendezvousURL = "https://a.org/" + strings.Repeat("a", 65536-14) }), ErrURLTooLong},
		{"2024 rendezvous URL not http", with(old2024, func(p *Payload) { p.RendezvousURL = "ws://a.org/x" }), ErrNotHTTPURL},
		{"2024 server name empty", with(old2024, func(p *Payload) { p.ServerName = "" }), ErrBadServerName},
		{"2024 server name too long", with(old2024, func(p *Payload) { p.ServerName = strings.Repeat("a", 65536) }), ErrURLTooLong},
		{"2024 new device with server name", with(old2024, func(p *Payload) { p.Intent = IntentNewDevice }), ErrTrailingBytes},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := c.p.Encode()
			if !isFormat(err, c.want) {
				t.Fatalf("Encode = %x, %v; want %v", b, err, c.want)
			}
		})
	}
	// The longest legal fields still encode and decode.
	p := with(base, func(p *Payload) {
		p.RendezvousID = strings.Repeat("Z", 255)
		p.BaseURL = "https://a.org/" + strings.Repeat("a", 65535-14)
	})
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Decode(b); err != nil || got != p {
		t.Fatalf("max-size round trip: %v", err)
	}
}
