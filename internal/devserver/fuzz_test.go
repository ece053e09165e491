package devserver

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseScope(t *testing.T) {
	cases := []struct {
		scope    string
		deviceID string
		unstable bool
		bad      string // substring of the error; "" = accepted
	}{
		{stableScope("ABCDEFGHIJ"), "ABCDEFGHIJ", false, ""},
		{ScopeAPIUnstable + " " + ScopeDevicePrefixUnstable + "abcDEF0123+/xyz", "abcDEF0123+/xyz", true, ""},
		{"openid " + stableScope("ABCDEFGHIJ"), "ABCDEFGHIJ", false, ""},
		{ScopeAPIStable, "", false, ""},
		{"openid", "", false, ""},
		{ScopeAPIStable + " " + ScopeDevicePrefixUnstable + "ABCDEFGHIJ", "", false, "mixed"},
		{ScopeAPIUnstable + " " + ScopeAPIStable, "", false, "mixed"},
		{stableScope("ABCDEFGHIJ") + " " + ScopeDevicePrefixStable + "KLMNOPQRST", "", false, "more than one"},
		{ScopeDevicePrefixStable + "ABCDEFGHIJ", "", false, "needs the C-S API scope"},
		{stableScope("ABCDEFGHI"), "", false, "at least 10"},
		{stableScope("ABCDEFGHI#J"), "", false, "at least 10"},
		{"", "", false, "no scope"},
		{ScopeAPIStable + "  openid", "", false, "empty scope token"},
		{"urn:synapse:admin:*", "", false, "not allowed"},
		{"open\"id", "", false, "characters"},
	}
	for _, c := range cases {
		g, err := parseScope(c.scope)
		if c.bad != "" {
			if err == nil || !errors.Is(err, ErrInvalidScope) || !strings.Contains(err.Error(), c.bad) {
				t.Errorf("parseScope(%q) error %v, want one about %q", c.scope, err, c.bad)
			}
			continue
		}
		if err != nil || g.deviceID != c.deviceID || g.unstable != c.unstable || g.String() != c.scope {
			t.Errorf("parseScope(%q) = %+v, %v", c.scope, g, err)
		}
	}
}

// FuzzParseScope: never panics; an accepted scope round-trips, has at most
// a policy-valid device and never mixes forms.
func FuzzParseScope(f *testing.F) {
	for _, seed := range []string{
		stableScope("ABCDEFGHIJ"), ScopeAPIUnstable + " " + ScopeDevicePrefixUnstable + "abcDEF0123+/xyz",
		"openid", "", " ", ScopeAPIStable + " " + ScopeDevicePrefixUnstable + "ABCDEFGHIJ", "\x00\xff",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		g, err := parseScope(raw)
		if err != nil {
			if !errors.Is(err, ErrInvalidScope) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if g.String() != raw {
			t.Fatalf("round trip %q → %q", raw, g.String())
		}
		if g.deviceID != "" && (!g.api || !validDeviceID(g.deviceID)) {
			t.Fatalf("accepted device %q without API scope or with a bad ID", g.deviceID)
		}
	})
}

// FuzzParseClientMetadata: registration bodies never panic, and whatever
// is accepted is a public client with an https client_uri.
func FuzzParseClientMetadata(f *testing.F) {
	good, _ := json.Marshal(deviceClientMetadata())
	f.Add(good)
	f.Add([]byte(`{"client_uri":"https://a.example","grant_types":["authorization_code"],"redirect_uris":["io.example.a:/cb"],"token_endpoint_auth_method":"none","application_type":"native"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"client_uri":"https://github.io","token_endpoint_auth_method":"none"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := parseClientMetadata(body)
		if err != nil {
			var re *registrationError
			if !errors.As(err, &re) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if m.TokenEndpointAuthMethod != "none" || !strings.HasPrefix(m.ClientURI, "https:") || len(m.GrantTypes) == 0 {
			t.Fatalf("accepted %+v", m)
		}
	})
}

// FuzzParseKeysUpload: /keys/upload bodies never panic; accepted device
// keys belong to the caller's device.
func FuzzParseKeysUpload(f *testing.F) {
	const user, dev = "@alice:127.0.0.1:8008", "ABCDEFGHIJ"
	key := strings.Repeat("A", 43)
	f.Add([]byte(`{"device_keys":{"user_id":"` + user + `","device_id":"` + dev + `","algorithms":["m.olm.v1.curve25519-aes-sha2"],"keys":{"ed25519:` + dev + `":"` + key + `","curve25519:` + dev + `":"` + key + `"},"signatures":{"` + user + `":{"ed25519:` + dev + `":"x"}}}}`))
	f.Add([]byte(`{"one_time_keys":{"signed_curve25519:AAAAAQ":{"key":"x"}}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"device_keys":null}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, body []byte) {
		up, err := parseKeysUpload(body, user, dev)
		if err != nil {
			var ke *KeysError
			if !errors.As(err, &ke) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if up.deviceKeys != nil {
			var dk deviceKeys
			if json.Unmarshal(up.deviceKeys, &dk) != nil || dk.UserID != user || dk.DeviceID != dev {
				t.Fatalf("accepted foreign device keys %s", up.deviceKeys)
			}
		}
	})
}

// FuzzNormaliseUserCode: whatever a person types, the result has no
// spaces, dashes or lower-case ASCII.
func FuzzNormaliseUserCode(f *testing.F) {
	for _, s := range []string{"abc-123", " AB C12 ", "", "ÿ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, typed string) {
		got := normaliseUserCode(typed)
		if strings.ContainsAny(got, " -\tabcdefghijklmnopqrstuvwxyz") {
			t.Fatalf("%q → %q", typed, got)
		}
	})
}
