package oauth

import (
	"testing"
	"time"
)

func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte(`{"issuer":"https://a/","token_endpoint":"https://a/t","device_authorization_endpoint":"https://a/d","grant_types_supported":["urn:ietf:params:oauth:grant-type:device_code"]}`))
	f.Add([]byte(`{"issuer":1}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMetadata(b)
		if err == nil && (m.TokenEndpoint == "" || m.DeviceAuthorizationEndpoint == "") {
			t.Fatal("accepted metadata without endpoints")
		}
	})
}

func FuzzParseDeviceAuthorization(f *testing.F) {
	f.Add([]byte(`{"device_code":"GmRhmhcxhwAzkoEqiMEg","user_code":"123456","verification_uri":"https://a/link","verification_uri_complete":"https://a/link?code=123456","expires_in":1800,"interval":5}`))
	f.Add([]byte(`{"device_code":"d","user_code":"u","verification_uri":"https://a/","expires_in":1e300,"interval":1e300}`))
	f.Add([]byte(`{"expires_in":-1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDeviceAuthorization(b)
		if err == nil && (d.Interval <= 0 || d.Interval > maxInterval || d.ExpiresIn <= 0 || d.ExpiresIn > maxExpiresIn) {
			t.Fatalf("unbounded timing accepted: %v", d)
		}
	})
}

func FuzzParseToken(f *testing.F) {
	f.Add([]byte(`{"access_token":"a","token_type":"Bearer","expires_in":300,"refresh_token":"r"}`))
	f.Add([]byte(`{"error":"authorization_pending"}`))
	f.Add([]byte(`{"access_token":"a","expires_in":1e308}`))
	now := time.Unix(1700000000, 0)
	f.Fuzz(func(t *testing.T, b []byte) {
		tok, err := ParseToken(b, now)
		if err == nil && tok.AccessToken == "" {
			t.Fatal("token without access_token")
		}
	})
}

func FuzzParseError(f *testing.F) {
	f.Add(403, []byte(`{"error":"authorization_pending","error_description":"x"}`))
	f.Add(500, []byte(`<html>`))
	f.Fuzz(func(t *testing.T, status int, b []byte) {
		e := parseError("token", status, b)
		_ = e.Error()
	})
}

func FuzzParseRegistration(f *testing.F) {
	f.Add([]byte(`{"client_id":"01JABC"}`))
	f.Add([]byte(`{"client_id":""}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := ParseRegistration(b)
		if err == nil && id == "" {
			t.Fatal("empty client_id accepted")
		}
	})
}
