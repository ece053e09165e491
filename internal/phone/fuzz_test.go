package phone

import (
	"encoding/base64"
	"testing"
)

// FuzzMessageType: the phone's reading of the new device's messages never
// panics and accepts only JSON objects with a type.
func FuzzMessageType(f *testing.F) {
	for _, seed := range []string{`{"type":"m.login.protocol"}`, `{"type":""}`, `[]`, `{"type":1}`, ``, `{"type":"m.login.failure","reason":7}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		typ, err := messageType(raw, ErrMalformedMessage)
		if err == nil && typ == "" {
			t.Fatal("empty type accepted")
		}
	})
}

// FuzzFlipLastBit: tampering always changes the payload and keeps
// base64 payloads decodable to the same length.
func FuzzFlipLastBit(f *testing.F) {
	for _, seed := range []string{"AAAA", "QUJDRA==", "x", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		out := flipLastBit(payload)
		if out == payload {
			t.Fatalf("flipLastBit(%q) unchanged", payload)
		}
		if in, err := base64.RawStdEncoding.DecodeString(payload); err == nil && len(in) > 0 {
			got, err := base64.RawStdEncoding.DecodeString(out)
			if err != nil || len(got) != len(in) {
				t.Fatalf("flipLastBit(%q) = %q", payload, out)
			}
		}
	})
}
