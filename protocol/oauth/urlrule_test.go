package oauth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// metadataJSON is server metadata with every endpoint at base, one of them
// replaced by override when field is not "".
func metadataJSON(base, field, override string) string {
	v := map[string]string{
		"issuer":                        base + "/",
		"token_endpoint":                base + "/oauth2/token",
		"device_authorization_endpoint": base + "/oauth2/device",
		"registration_endpoint":         base + "/oauth2/registration",
		"revocation_endpoint":           base + "/oauth2/revoke",
	}
	if field != "" {
		v[field] = override
	}
	var b strings.Builder
	b.WriteString(`{"grant_types_supported":["` + GrantTypeDeviceCode + `"]`)
	for k, s := range v {
		b.WriteString(`,"` + k + `":"` + s + `"`)
	}
	b.WriteString("}")
	return b.String()
}

// The endpoints a server names carry the device code, the tokens and the
// consent page: plain http is refused unless the host is loopback, the rule
// the rendezvous clients apply to every URL (MSC4108 "Login via OAuth 2.0
// device authorization flow"; RFC 8628 §3.2 verification URIs).
func TestMetadataEndpointsHTTPSOnlyExceptLoopback(t *testing.T) {
	for _, field := range []string{"issuer", "token_endpoint", "device_authorization_endpoint", "registration_endpoint", "revocation_endpoint"} {
		for _, insecure := range []string{"http://matrix.example.org/x", "http://10.0.0.1/x", "http://127.0.0.1.example.org/x", "HTTP://auth.example.org/x"} {
			_, err := ParseMetadata([]byte(metadataJSON("https://auth.example.org", field, insecure)))
			var me *MetadataError
			if !errors.As(err, &me) || me.Field != field {
				t.Errorf("%s = %s: err %v, want a MetadataError for %s", field, insecure, err, field)
				continue
			}
			if !errors.Is(err, ErrInsecureURL) {
				t.Errorf("%s = %s: err %v does not match ErrInsecureURL", field, insecure, err)
			}
		}
	}
	for _, base := range []string{"https://auth.example.org", "http://127.0.0.1:8008", "http://[::1]:8008", "http://localhost:8008", "http://127.5.6.7"} {
		if _, err := ParseMetadata([]byte(metadataJSON(base, "", ""))); err != nil {
			t.Errorf("endpoints at %s refused: %v", base, err)
		}
	}
}

// The verification URIs go to the phone, whose browser opens them: the same
// rule.
func TestDeviceAuthorizationVerificationURIsHTTPSOnlyExceptLoopback(t *testing.T) {
	body := func(uri, complete string) []byte {
		s := `{"device_code":"d","user_code":"u","expires_in":600,"verification_uri":"` + uri + `"`
		if complete != "" {
			s += `,"verification_uri_complete":"` + complete + `"`
		}
		return []byte(s + "}")
	}
	for _, c := range []struct {
		uri, complete, field string
	}{
		{"http://auth.example.org/link", "", "verification_uri"},
		{"https://auth.example.org/link", "http://auth.example.org/link?code=u", "verification_uri_complete"},
		{"http://192.168.1.2/link", "", "verification_uri"},
	} {
		_, err := ParseDeviceAuthorization(body(c.uri, c.complete))
		var me *MetadataError
		if !errors.As(err, &me) || me.Field != c.field || !errors.Is(err, ErrInsecureURL) {
			t.Errorf("%s / %s: err %v, want an insecure %s", c.uri, c.complete, err, c.field)
		}
	}
	for _, c := range [][2]string{
		{"https://auth.example.org/link", "https://auth.example.org/link?code=u"},
		{"http://127.0.0.1:8008/link", "http://127.0.0.1:8008/link?code=u"},
		{"http://[::1]/link", ""},
		{"http://localhost/link", ""},
	} {
		if _, err := ParseDeviceAuthorization(body(c[0], c[1])); err != nil {
			t.Errorf("%s / %s refused: %v", c[0], c[1], err)
		}
	}
}

// refuseTransport fails every request and counts them: a refused base URL
// must not be asked at all.
type refuseTransport struct{ requests int }

func (r *refuseTransport) RoundTrip(*http.Request) (*http.Response, error) {
	r.requests++
	return nil, errors.New("refuseTransport: no requests expected")
}

func TestDiscoverRefusesAPlainHTTPBaseURL(t *testing.T) {
	rt := &refuseTransport{}
	_, err := Discover(context.Background(), &http.Client{Transport: rt}, "http://matrix.example.org")
	if !errors.Is(err, ErrInsecureURL) || rt.requests != 0 {
		t.Fatalf("err %v after %d requests, want ErrInsecureURL before any request", err, rt.requests)
	}
}
