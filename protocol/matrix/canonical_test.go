package matrix

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"testing"
)

// The examples of the Matrix spec appendix "Canonical JSON".
func TestCanonicalJSONSpecExamples(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{}`, `{}`},
		{`{"one": 1, "two": "Two"}`, `{"one":1,"two":"Two"}`},
		{`{"b": "2", "a": "1"}`, `{"a":"1","b":"2"}`},
		{`{"b":"2","a":"1"}`, `{"a":"1","b":"2"}`},
		{`{
    "auth": {
        "success": true,
        "mxid": "@john.doe:example.com",
        "profile": {
            "display_name": "John Doe",
            "three_pids": [
                {"medium": "email", "address": "john.doe@example.org"},
                {"medium": "msisdn", "address": "123456789"}
            ]
        }
    }
}`, `{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}}`},
		{`{"a": "日本語"}`, `{"a":"日本語"}`},
		{`{"本": 2, "日": 1}`, `{"日":1,"本":2}`},
		{`{"a": "\u65E5"}`, `{"a":"日"}`},
		{`{"a": null}`, `{"a":null}`},
		{`{"a": -0, "b": 1e10}`, `{"a":0,"b":10000000000}`},
		{`{"a": 1.5e1, "b": 100e-2, "c": 5E+0}`, `{"a":15,"b":1,"c":5}`},
		// Escaping: only the mandatory escapes, lower-case hex like Synapse.
		{`{"a":"<>&\u2028\/\u0001\u001F\"\\\n\t"}`, "{\"a\":\"<>&\u2028/\\u0001\\u001f\\\"\\\\\\n\\t\"}"},
		{`[1, [], {}, true, false, "x", 9007199254740991, -9007199254740991]`, `[1,[],{},true,false,"x",9007199254740991,-9007199254740991]`},
	} {
		got, err := Canonicalize([]byte(tc.in))
		if err != nil || string(got) != tc.want {
			t.Errorf("Canonicalize(%s)\n got %s (%v)\nwant %s", tc.in, got, err, tc.want)
		}
	}
}

func TestCanonicalJSONRejects(t *testing.T) {
	for _, in := range []string{
		`{"a":1.5}`, `{"a":9007199254740992}`, `{"a":1e999999999}`, `{"a":1e-999999999}`, `{"a":1e401}`, `{"a":1,"a":2}`, `{"a":"\xff"}`, `{`, `{} {}`, `[1,]`,
	} {
		if _, err := Canonicalize([]byte(in)); !errors.Is(err, ErrNotCanonicalizable) {
			t.Errorf("Canonicalize(%q) = %v, want ErrNotCanonicalizable", in, err)
		}
	}
}

// The Matrix spec appendix "Signing JSON" examples: key "ed25519:1" from
// the seed YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1.
func TestSignJSONSpecExamples(t *testing.T) {
	seed, err := parsePrivateKey("seed", "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1")
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := seed.Ed25519PublicKey()
	for _, tc := range []struct {
		obj  any
		want string
	}{
		{map[string]any{}, "K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ"},
		{map[string]any{"one": 1, "two": "Two"}, "KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw"},
	} {
		sig, err := SignJSON(tc.obj, seed)
		if err != nil || sig != tc.want {
			t.Fatalf("SignJSON(%v) = %s (%v), want %s", tc.obj, sig, err, tc.want)
		}
		// The signed form, with "unsigned" added, verifies.
		signed := map[string]any{"signatures": map[string]any{"domain": map[string]string{"ed25519:1": sig}}, "unsigned": map[string]int{"age_ts": 1}}
		for k, v := range tc.obj.(map[string]any) {
			signed[k] = v
		}
		raw, _ := json.Marshal(signed)
		if err := VerifyJSON(raw, "domain", "ed25519:1", pub); err != nil {
			t.Fatal(err)
		}
		signed["extra"] = "tampered"
		raw, _ = json.Marshal(signed)
		if err := VerifyJSON(raw, "domain", "ed25519:1", pub); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("tampered JSON verified: %v", err)
		}
	}
	if len(pub) != 43 || ed25519.PublicKeySize != 32 {
		t.Fatal(pub)
	}
}
