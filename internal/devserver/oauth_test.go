package devserver

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestDiscovery(t *testing.T) {
	s := startServer(t, Config{})
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL %q is not loopback", s.URL())
	}
	if want := "@alice:" + strings.TrimPrefix(s.URL(), "http://"); s.UserID() != want {
		t.Fatalf("UserID %q, want %q", s.UserID(), want)
	}

	wk := do(t, "GET", s.URL()+"/.well-known/matrix/client", "", nil).json(t)
	if got := wk["m.homeserver"].(map[string]any)["base_url"]; got != s.URL() {
		t.Fatalf("well-known base_url %v", got)
	}

	v := do(t, "GET", s.URL()+"/_matrix/client/versions", "", nil).json(t)
	if v["unstable_features"].(map[string]any)["org.matrix.msc4108"] != true {
		t.Fatalf("msc4108 not advertised: %v", v)
	}

	for _, p := range []string{"/_matrix/client/v1/auth_metadata", "/_matrix/client/unstable/org.matrix.msc2965/auth_metadata"} {
		m := do(t, "GET", s.URL()+p, "", nil).json(t)
		for field, want := range map[string]string{
			"issuer":                        s.URL() + "/",
			"registration_endpoint":         s.URL() + pathRegistration,
			"device_authorization_endpoint": s.URL() + pathDevice,
			"token_endpoint":                s.URL() + pathToken,
			"revocation_endpoint":           s.URL() + pathRevoke,
		} {
			if m[field] != want {
				t.Errorf("%s %s = %v, want %s", p, field, m[field], want)
			}
		}
		grants := m["grant_types_supported"].([]any)
		var joined []string
		for _, g := range grants {
			joined = append(joined, g.(string))
		}
		if !strings.Contains(strings.Join(joined, " "), GrantTypeDeviceCode) || !strings.Contains(strings.Join(joined, " "), "refresh_token") {
			t.Errorf("grant_types_supported %v", grants)
		}
	}
	expect(t, do(t, "GET", s.URL()+"/_matrix/client/v3/nonsense", "", nil), http.StatusNotFound, "M_UNRECOGNIZED")
}

func TestVersionsWithout2024(t *testing.T) {
	s := startServer(t, Config{Disable2024: true})
	v := do(t, "GET", s.URL()+"/_matrix/client/versions", "", nil).json(t)
	if v["unstable_features"].(map[string]any)["org.matrix.msc4108"] != false {
		t.Fatalf("msc4108 advertised although disabled: %v", v)
	}
}

func TestRegistrationRules(t *testing.T) {
	s := startServer(t, Config{})
	with := func(change func(m map[string]any)) map[string]any {
		m := deviceClientMetadata()
		change(m)
		return m
	}
	cases := []struct {
		name     string
		metadata map[string]any
		code     string // "" = accepted
	}{
		{"minimal device client", deviceClientMetadata(), ""},
		{"no grant_types means authorization_code, which needs redirect_uris",
			with(func(m map[string]any) { delete(m, "grant_types") }), errInvalidRedirectURI},
		{"response_types code without authorization_code",
			with(func(m map[string]any) { m["response_types"] = []string{"code"} }), errInvalidClientMetadata},
		{"client_uri missing", with(func(m map[string]any) { delete(m, "client_uri") }), errInvalidClientMetadata},
		{"client_uri http", with(func(m map[string]any) { m["client_uri"] = "http://qrlogin.example.org" }), errInvalidClientMetadata},
		{"client_uri localhost", with(func(m map[string]any) { m["client_uri"] = "https://localhost:8443" }), errInvalidClientMetadata},
		{"client_uri loopback IP", with(func(m map[string]any) { m["client_uri"] = "https://127.0.0.1" }), errInvalidClientMetadata},
		{"client_uri public suffix", with(func(m map[string]any) { m["client_uri"] = "https://github.io" }), errInvalidClientMetadata},
		{"client_uri under a public suffix is fine", with(func(m map[string]any) { m["client_uri"] = "https://qrlogin.github.io" }), ""},
		{"confidential client", with(func(m map[string]any) { m["token_endpoint_auth_method"] = "client_secret_basic" }), errInvalidClientMetadata},
		{"auth method omitted", with(func(m map[string]any) { delete(m, "token_endpoint_auth_method") }), errInvalidClientMetadata},
		{"logo on another host", with(func(m map[string]any) { m["logo_uri"] = "https://evil.example.com/logo.png" }), errInvalidClientMetadata},
		{"policy on a subdomain", with(func(m map[string]any) { m["policy_uri"] = "https://docs.qrlogin.example.org/privacy" }), ""},
		{"Element X shape (all three grants, loopback redirect)", with(func(m map[string]any) {
			m["grant_types"] = []string{"authorization_code", "refresh_token", GrantTypeDeviceCode}
			m["redirect_uris"] = []string{"http://127.0.0.1/callback", "org.example.qrlogin:/callback"}
			m["response_types"] = []string{"code"}
		}), ""},
		{"native redirect to a remote http host", with(func(m map[string]any) {
			m["grant_types"] = []string{"authorization_code"}
			m["redirect_uris"] = []string{"http://evil.example.com/cb"}
		}), errInvalidRedirectURI},
		{"custom scheme not the reversed host", with(func(m map[string]any) {
			m["grant_types"] = []string{"authorization_code"}
			m["redirect_uris"] = []string{"com.evil.app:/cb"}
		}), errInvalidRedirectURI},
		{"unknown grant type", with(func(m map[string]any) { m["grant_types"] = []string{"password"} }), errInvalidClientMetadata},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := do(t, "POST", s.URL()+pathRegistration, "", c.metadata)
			if c.code == "" {
				expect(t, r, http.StatusCreated, "")
				return
			}
			expect(t, r, http.StatusBadRequest, c.code)
		})
	}
	expect(t, do(t, "POST", s.URL()+pathRegistration, "", []byte("{not json")), http.StatusBadRequest, errInvalidClientMetadata)
}

func TestRegistrationDeduplicates(t *testing.T) {
	s := startServer(t, Config{})
	a := register(t, s, deviceClientMetadata())
	b := register(t, s, deviceClientMetadata())
	if a != b {
		t.Fatalf("identical metadata gave %s and %s", a, b)
	}
	if !regexp.MustCompile(`^[0-7][0-9A-HJKMNP-TV-Z]{25}$`).MatchString(a) {
		t.Fatalf("client_id %q is not ULID-shaped", a)
	}
	other := deviceClientMetadata()
	other["client_name"] = "another app"
	if c := register(t, s, other); c == a {
		t.Fatal("different metadata got the same client_id")
	}
}

func TestDeviceAuthorizationResponse(t *testing.T) {
	s := startServer(t, Config{PollInterval: time.Second})
	id := register(t, s, deviceClientMetadata())
	r := do(t, "POST", s.URL()+pathDevice, "", url.Values{"client_id": {id}, "scope": {stableScope(testDeviceID)}})
	expect(t, r, http.StatusOK, "")
	m := r.json(t)
	if _, ok := m["verification_uri_complete"]; ok {
		t.Errorf("verification_uri_complete present by default: %s", r.body)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9]{32}$`).MatchString(m["device_code"].(string)) {
		t.Errorf("device_code %v", m["device_code"])
	}
	if !regexp.MustCompile(`^[A-Z0-9]{6}$`).MatchString(m["user_code"].(string)) {
		t.Errorf("user_code %v", m["user_code"])
	}
	if m["verification_uri"] != s.ConsentURL() || m["expires_in"] != float64(1200) || m["interval"] != float64(1) {
		t.Errorf("response %s", r.body)
	}
	if got := s.PendingUserCodes(); len(got) != 1 || got[0] != m["user_code"] {
		t.Errorf("PendingUserCodes %v", got)
	}

	s2 := startServer(t, Config{VerificationURIComplete: true, DeviceCodeLifetime: 90 * time.Second})
	id2 := register(t, s2, deviceClientMetadata())
	da := startDeviceGrant(t, s2, id2, stableScope(testDeviceID))
	if da.VerificationURIComplete != s2.ConsentURL()+"?code="+da.UserCode || da.ExpiresIn != 90 || da.Interval != 5 {
		t.Errorf("with auto-fill: %+v", da)
	}
}

func TestDeviceAuthorizationRefusals(t *testing.T) {
	s := startServer(t, Config{})
	noDeviceGrant := deviceClientMetadata()
	noDeviceGrant["grant_types"] = []string{"refresh_token"}
	withoutGrant := register(t, s, noDeviceGrant)
	id := register(t, s, deviceClientMetadata())

	expect(t, do(t, "POST", s.URL()+pathDevice, "", url.Values{"client_id": {"nobody"}, "scope": {stableScope(testDeviceID)}}),
		http.StatusUnauthorized, errInvalidClient)
	expect(t, do(t, "POST", s.URL()+pathDevice, "", url.Values{"client_id": {withoutGrant}, "scope": {stableScope(testDeviceID)}}),
		http.StatusUnauthorized, errUnauthorizedClient)
	for _, scope := range []string{
		ScopeAPIStable + " " + ScopeDevicePrefixUnstable + testDeviceID, // mixed
		ScopeAPIStable + " " + ScopeDevicePrefixStable + "SHORT",        // < 10 chars
		stableScope(testDeviceID) + " " + ScopeDevicePrefixStable + "OTHERDEVICE1",
		"",
	} {
		expect(t, do(t, "POST", s.URL()+pathDevice, "", url.Values{"client_id": {id}, "scope": {scope}}),
			http.StatusBadRequest, errInvalidScope)
	}
	// The unstable form rust-sdk sends, and the MSC example with openid.
	startDeviceGrant(t, s, id, ScopeAPIUnstable+" "+ScopeDevicePrefixUnstable+"abcDEF0123+/xyz")
	startDeviceGrant(t, s, id, "openid "+stableScope(testDeviceID))
}

// TestTokenPollingStatusCodes: MAS answers pending, denied and expired
// with 403 (docs/protocol-divergences.md "Token polling"), a spent or
// unknown code with 400 invalid_grant.
func TestTokenPollingStatusCodes(t *testing.T) {
	clock := newFakeClock()
	s := startServer(t, Config{Now: clock.Now, DeviceCodeLifetime: time.Minute})
	id := register(t, s, deviceClientMetadata())

	da := startDeviceGrant(t, s, id, stableScope(testDeviceID))
	expect(t, poll(t, s, id, da.DeviceCode), http.StatusForbidden, errAuthorizationPending)
	expect(t, do(t, "GET", s.URL()+"/_matrix/client/v3/devices/"+testDeviceID, "", nil), http.StatusUnauthorized, "M_MISSING_TOKEN")
	if err := s.Approve(strings.ToLower(da.UserCode)); err != nil {
		t.Fatalf("Approve (lower case): %v", err)
	}
	if err := s.Approve(da.UserCode); err != ErrGrantDecided {
		t.Fatalf("second Approve: %v", err)
	}
	ok := poll(t, s, id, da.DeviceCode)
	expect(t, ok, http.StatusOK, "")
	tok := ok.json(t)
	if tok["token_type"] != "Bearer" || tok["refresh_token"] == "" || tok["expires_in"] != float64(300) {
		t.Fatalf("token response %s", ok.body)
	}
	expect(t, poll(t, s, id, da.DeviceCode), http.StatusBadRequest, errInvalidGrant) // spent
	expect(t, poll(t, s, id, "unknown-code"), http.StatusBadRequest, errInvalidGrant)

	denied := startDeviceGrant(t, s, id, stableScope("DENIEDDEV01"))
	if err := s.Deny(denied.UserCode); err != nil {
		t.Fatal(err)
	}
	expect(t, poll(t, s, id, denied.DeviceCode), http.StatusForbidden, errAccessDenied)

	expired := startDeviceGrant(t, s, id, stableScope("EXPIREDDEV1"))
	clock.Advance(time.Minute)
	expect(t, poll(t, s, id, expired.DeviceCode), http.StatusForbidden, errExpiredToken)
	if err := s.Approve(expired.UserCode); err != ErrGrantExpired {
		t.Fatalf("Approve after expiry: %v", err)
	}
	if err := s.Approve("ZZZZZZ"); err != ErrUnknownUserCode {
		t.Fatalf("Approve unknown: %v", err)
	}
	if got := s.PendingUserCodes(); len(got) != 0 {
		t.Fatalf("PendingUserCodes after everything: %v", got)
	}

	// A device code belongs to its client.
	other := deviceClientMetadata()
	other["client_name"] = "other"
	otherID := register(t, s, other)
	stolen := startDeviceGrant(t, s, id, stableScope("STOLENDEV01"))
	expect(t, poll(t, s, otherID, stolen.DeviceCode), http.StatusBadRequest, errInvalidGrant)
	expect(t, poll(t, s, "nobody", stolen.DeviceCode), http.StatusUnauthorized, errInvalidClient)
	expect(t, do(t, "POST", s.URL()+pathToken, "", url.Values{"grant_type": {"password"}, "client_id": {id}}),
		http.StatusBadRequest, errUnsupportedGrantType)
}

func TestTokenExchangeCreatesDevice(t *testing.T) {
	s := startServer(t, Config{})
	clientID := register(t, s, deviceClientMetadata())
	da := startDeviceGrant(t, s, clientID, stableScope(testDeviceID))
	if _, ok := s.Device(testDeviceID); ok {
		t.Fatal("device exists before the exchange")
	}
	phone, err := s.LoginDevice("PHONEDEVICE")
	if err != nil {
		t.Fatal(err)
	}
	expect(t, do(t, "GET", s.URL()+"/_matrix/client/v3/devices/"+testDeviceID, phone.AccessToken.Reveal(), nil),
		http.StatusNotFound, "M_NOT_FOUND")
	if err := s.Approve(da.UserCode); err != nil {
		t.Fatal(err)
	}
	expect(t, poll(t, s, clientID, da.DeviceCode), http.StatusOK, "")
	r := do(t, "GET", s.URL()+"/_matrix/client/v3/devices/"+testDeviceID, phone.AccessToken.Reveal(), nil)
	expect(t, r, http.StatusOK, "")
	if r.json(t)["device_id"] != testDeviceID {
		t.Fatalf("device %s", r.body)
	}
}

func TestDeviceIDWithSlashIsFoundWhenEscaped(t *testing.T) {
	s := startServer(t, Config{})
	// rust-sdk uses base64 identity keys (docs/protocol-divergences.md
	// "Device ID").
	const rustID = "abcDEF0123+/xyz"
	clientID := register(t, s, deviceClientMetadata())
	da := startDeviceGrant(t, s, clientID, ScopeAPIUnstable+" "+ScopeDevicePrefixUnstable+rustID)
	if err := s.Approve(da.UserCode); err != nil {
		t.Fatal(err)
	}
	tok := poll(t, s, clientID, da.DeviceCode).json(t)["access_token"].(string)
	r := do(t, "GET", s.URL()+"/_matrix/client/v3/devices/"+url.PathEscape(rustID), tok, nil)
	expect(t, r, http.StatusOK, "")
	who := do(t, "GET", s.URL()+"/_matrix/client/v3/account/whoami", tok, nil).json(t)
	if who["device_id"] != rustID || who["user_id"] != s.UserID() {
		t.Fatalf("whoami %v", who)
	}
}

func TestRefreshTokenRotation(t *testing.T) {
	s := startServer(t, Config{})
	clientID, tok := login(t, s, testDeviceID)
	refresh := func(rt string) response {
		return do(t, "POST", s.URL()+pathToken, "", url.Values{
			"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {clientID},
		})
	}
	r := refresh(tok.RefreshToken)
	expect(t, r, http.StatusOK, "")
	next := r.json(t)
	if next["refresh_token"] == tok.RefreshToken || next["access_token"] == tok.AccessToken {
		t.Fatal("refresh did not rotate the tokens")
	}
	expect(t, refresh(tok.RefreshToken), http.StatusBadRequest, errInvalidGrant) // old one is dead
	expect(t, do(t, "GET", s.URL()+"/_matrix/client/v3/account/whoami", tok.AccessToken, nil), http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
	expect(t, do(t, "GET", s.URL()+"/_matrix/client/v3/account/whoami", next["access_token"].(string), nil), http.StatusOK, "")
	expect(t, refresh(next["refresh_token"].(string)), http.StatusOK, "")

	// A client that did not register refresh_token gets none, and cannot
	// use the grant.
	noRefresh := deviceClientMetadata()
	noRefresh["grant_types"] = []string{GrantTypeDeviceCode}
	id := register(t, s, noRefresh)
	da := startDeviceGrant(t, s, id, stableScope("NOREFRESH01"))
	_ = s.Approve(da.UserCode)
	if got := poll(t, s, id, da.DeviceCode).json(t); got["refresh_token"] != nil {
		t.Fatalf("refresh_token issued to a client without the grant: %v", got)
	}
	expect(t, do(t, "POST", s.URL()+pathToken, "", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {id},
	}), http.StatusUnauthorized, errUnauthorizedClient)
}

func TestAccessTokenExpiry(t *testing.T) {
	clock := newFakeClock()
	s := startServer(t, Config{Now: clock.Now, AccessTokenLifetime: 30 * time.Second})
	_, tok := login(t, s, testDeviceID)
	if tok.ExpiresIn != 30 {
		t.Fatalf("expires_in %d", tok.ExpiresIn)
	}
	expect(t, do(t, "GET", s.URL()+"/_matrix/client/v3/account/whoami", tok.AccessToken, nil), http.StatusOK, "")
	clock.Advance(30 * time.Second)
	expect(t, do(t, "GET", s.URL()+"/_matrix/client/v3/account/whoami", tok.AccessToken, nil), http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
}

func TestRevocation(t *testing.T) {
	s := startServer(t, Config{})
	for _, which := range []string{"access", "refresh"} {
		t.Run(which, func(t *testing.T) {
			deviceID := strings.ToUpper(which) + "DEVICE01"
			clientID, tok := login(t, s, deviceID)
			token := tok.AccessToken
			if which == "refresh" {
				token = tok.RefreshToken
			}
			expect(t, do(t, "POST", s.URL()+pathRevoke, "", url.Values{"token": {token}, "client_id": {clientID}}), http.StatusOK, "")
			expect(t, do(t, "GET", s.URL()+"/_matrix/client/v3/account/whoami", tok.AccessToken, nil), http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
			expect(t, do(t, "POST", s.URL()+pathToken, "", url.Values{
				"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {clientID},
			}), http.StatusBadRequest, errInvalidGrant)
			if _, ok := s.Device(deviceID); ok {
				t.Fatal("device survived the revocation")
			}
			// RFC 7009 §2.2: unknown tokens are not an error.
			expect(t, do(t, "POST", s.URL()+pathRevoke, "", url.Values{"token": {token}, "client_id": {clientID}}), http.StatusOK, "")
		})
	}
}

func TestBearerErrors(t *testing.T) {
	s := startServer(t, Config{})
	whoami := s.URL() + "/_matrix/client/v3/account/whoami"
	expect(t, do(t, "GET", whoami, "", nil), http.StatusUnauthorized, "M_MISSING_TOKEN")
	expect(t, do(t, "GET", whoami, "mat_nonsense", nil), http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
	_, tok := login(t, s, testDeviceID)
	expect(t, do(t, "GET", whoami+"?access_token="+tok.AccessToken, "", nil), http.StatusOK, "")

	// A token without the C-S API scope (openid only) does not open the API.
	id := register(t, s, deviceClientMetadata())
	da := startDeviceGrant(t, s, id, "openid")
	_ = s.Approve(da.UserCode)
	openidOnly := poll(t, s, id, da.DeviceCode).json(t)["access_token"].(string)
	expect(t, do(t, "GET", whoami, openidOnly, nil), http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
}

func TestScopePolicyAtConsent(t *testing.T) {
	s := startServer(t, Config{ScopePolicyAtConsent: true})
	id := register(t, s, deviceClientMetadata())
	mixed := startDeviceGrant(t, s, id, ScopeAPIStable+" "+ScopeDevicePrefixUnstable+testDeviceID)
	if err := s.Approve(mixed.UserCode); err == nil || !strings.Contains(err.Error(), "mixed") {
		t.Fatalf("Approve of mixed scopes: %v", err)
	}
	if err := s.Deny(mixed.UserCode); err != nil {
		t.Fatalf("Deny: %v", err)
	}
	expect(t, poll(t, s, id, mixed.DeviceCode), http.StatusForbidden, errAccessDenied)
}

func TestWaitForUserCode(t *testing.T) {
	s := startServer(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.WaitForUserCode(ctx); err != context.DeadlineExceeded {
		t.Fatalf("nothing pending: %v", err)
	}
	id := register(t, s, deviceClientMetadata())
	got := make(chan string, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		code, _ := s.WaitForUserCode(ctx)
		got <- code
	}()
	time.Sleep(20 * time.Millisecond) // let it wait first
	da := startDeviceGrant(t, s, id, stableScope(testDeviceID))
	if code := <-got; code != da.UserCode {
		t.Fatalf("WaitForUserCode %q, want %q", code, da.UserCode)
	}
}
