package matrix

import (
	"encoding/json"
	"errors"
	"testing"
)

// Tests of SigningBytes on raw JSON, the way a server verifies what a client
// uploaded (moved here from internal/devserver, which now signs and verifies
// with this package instead of a canonical JSON of its own).

// TestSigningBytes: the spec appendix "Signing JSON" drops the top-level
// "signatures" and "unsigned" (and only those), and the rest is canonical
// JSON without HTML escaping.
func TestSigningBytes(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"b":1,"signatures":{"x":{}},"unsigned":{"age":1},"a":"<&>"}`, `{"a":"<&>","b":1}`},
		{`{"a": -0, "b": 1e10, "signatures": {}}`, `{"a":0,"b":10000000000}`},
		{`{"x":{"signatures":1,"unsigned":2}}`, `{"x":{"signatures":1,"unsigned":2}}`},
		{`{"本": 2, "日": 1}`, `{"日":1,"本":2}`},
	} {
		got, err := SigningBytes(json.RawMessage(tc.in))
		if err != nil || string(got) != tc.want {
			t.Errorf("SigningBytes(%s)\n got %s (%v)\nwant %s", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{`[]`, `null`, `"x"`, `{"a":1.5}`, `{"a":{"b":1,"b":2}}`} {
		if _, err := SigningBytes(json.RawMessage(in)); !errors.Is(err, ErrNotCanonicalizable) {
			t.Errorf("SigningBytes(%s) = %v, want ErrNotCanonicalizable", in, err)
		}
	}
}

// FuzzSigningBytes: the signed form never panics, is idempotent and never
// keeps signatures or unsigned.
func FuzzSigningBytes(f *testing.F) {
	f.Add([]byte(`{"one": 1, "two": "Two"}`))
	f.Add([]byte(`{"a": -0, "b": 1e10, "signatures": {}, "unsigned": 1}`))
	f.Add([]byte(`{"本": 2, "日": 1, "x": [1.5, {"z": null}]}`))
	f.Add([]byte(`{"a":"\u2028<&>"}`))
	f.Fuzz(func(t *testing.T, object []byte) {
		once, err := SigningBytes(json.RawMessage(object))
		if err != nil {
			return
		}
		twice, err := SigningBytes(json.RawMessage(once))
		if err != nil || string(twice) != string(once) {
			t.Fatalf("not idempotent: %s → %s (%v)", once, twice, err)
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(once, &m) != nil {
			t.Fatalf("signed form is not a JSON object: %s", once)
		}
		if _, ok := m["signatures"]; ok {
			t.Fatal("signatures kept")
		}
		if _, ok := m["unsigned"]; ok {
			t.Fatal("unsigned kept")
		}
	})
}

// BenchmarkSigningBytes: a signed cross-signing key, as a server verifies it.
func BenchmarkSigningBytes(b *testing.B) {
	raw := json.RawMessage(`{"user_id":"@alice:127.0.0.1:8008","usage":["self_signing"],"keys":{"ed25519:abc":"abc"},"signatures":{"x":{"y":"z"}}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SigningBytes(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSigningBytesRejectsTopLevelAmbiguity(t *testing.T) {
	for _, in := range []string{`{"a":1,"a":2}`, "{\"\xff\":1}"} {
		if _, err := SigningBytes(json.RawMessage(in)); err == nil {
			t.Errorf("SigningBytes(%q) accepted an ambiguous object", in)
		}
	}
}
