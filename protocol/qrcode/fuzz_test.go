package qrcode

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// FuzzDecode: Decode never panics, fails only with *FormatError, and what it
// accepts re-encodes to a payload that decodes to the same thing; input
// without a lone trailing base-URL slash re-encodes byte for byte.
func FuzzDecode(f *testing.F) {
	for _, v := range publishedVectors(f) {
		f.Add(v.payload)
		f.Add(v.payload[:len(v.payload)-1])
		f.Add(append(append([]byte{}, v.payload...), '/'))
	}
	f.Add([]byte{})
	f.Add([]byte("MATRIX"))
	f.Add([]byte("IO_ELEMENT_MSC4388\x03"))
	r := rand.New(rand.NewPCG(1, 1))
	for range 5 {
		f.Add(randomPayload(f, r))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := Decode(in)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Err == nil {
				t.Fatalf("error %v is not a *FormatError", err)
			}
			return
		}
		enc, err := p.Encode()
		if err != nil {
			t.Fatalf("decoded %+v but cannot encode it: %v", p, err)
		}
		if trimLoneSlash(p.BaseURL) == p.BaseURL && !bytes.Equal(enc, in) {
			t.Fatalf("re-encoded\n%x\nfrom\n%x", enc, in)
		}
		p2, err := Decode(enc)
		if err != nil {
			t.Fatalf("cannot decode own encoding %x: %v", enc, err)
		}
		p.BaseURL = trimLoneSlash(p.BaseURL)
		if p2 != p {
			t.Fatalf("round trip changed\n%+v\nto\n%+v", p, p2)
		}
	})
}

// FuzzRender: any payload up to a few hundred bytes renders, and gozxing
// reads back exactly those bytes as one byte-mode segment.
func FuzzRender(f *testing.F) {
	f.Add(mscExample(f))
	f.Add([]byte{})
	f.Add([]byte{0x80, 0xff, 0x00})
	f.Add([]byte("MATRIX01HX9K00Q1H6KPD47EG4G1T3XG0123456789"))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 || len(in) > 400 {
			t.Skip() // empty codes are not read back by decoders; big ones are slow
		}
		checkGozxing(t, in, 1)
	})
}
