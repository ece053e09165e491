package devserver

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestConsentPage(t *testing.T) {
	s := startServer(t, Config{})
	page := do(t, "GET", s.ConsentURL(), "", nil)
	expect(t, page, http.StatusOK, "")
	html := string(page.body)
	if ct := page.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("Content-Type %q", ct)
	}
	for _, want := range []string{`<form method="post" action="/link">`, `name="user_code"`,
		`name="action" value="approve"`, `name="action" value="deny"`, s.UserID()} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}

	id := register(t, s, deviceClientMetadata())
	approveMe := startDeviceGrant(t, s, id, stableScope(testDeviceID))
	denyMe := startDeviceGrant(t, s, id, stableScope("DENYDEVICE1"))

	submit := func(code, action string) response {
		return do(t, "POST", s.ConsentURL(), "", url.Values{"user_code": {code}, "action": {action}})
	}
	r := submit("ZZ-ZZZZ", "approve")
	expect(t, r, http.StatusBadRequest, "")
	if !strings.Contains(string(r.body), "No sign-in request has the code ZZZZZZ") {
		t.Fatalf("wrong-code page: %s", r.body)
	}
	expect(t, poll(t, s, id, approveMe.DeviceCode), http.StatusForbidden, errAuthorizationPending)

	// What a person types: lower case with a space.
	typed := strings.ToLower(approveMe.UserCode[:3] + " " + approveMe.UserCode[3:])
	r = submit(typed, "approve")
	expect(t, r, http.StatusOK, "")
	if !strings.Contains(string(r.body), "Device approved") || strings.Contains(string(r.body), "<form") {
		t.Fatalf("approve page: %s", r.body)
	}
	expect(t, poll(t, s, id, approveMe.DeviceCode), http.StatusOK, "")

	r = submit(denyMe.UserCode, "deny")
	expect(t, r, http.StatusOK, "")
	if !strings.Contains(string(r.body), "Request denied") {
		t.Fatalf("deny page: %s", r.body)
	}
	expect(t, poll(t, s, id, denyMe.DeviceCode), http.StatusForbidden, errAccessDenied)

	r = submit(denyMe.UserCode, "approve")
	expect(t, r, http.StatusBadRequest, "")
	if !strings.Contains(string(r.body), "already approved or denied") {
		t.Fatalf("decided-twice page: %s", r.body)
	}
	expect(t, submit(denyMe.UserCode, "maybe"), http.StatusBadRequest, "")

	// HTML escaping of what the user typed.
	r = submit(`<script>x</script>`, "approve")
	if strings.Contains(string(r.body), "<SCRIPT>") || strings.Contains(string(r.body), "<script>") {
		t.Fatal("typed code is not escaped")
	}
}

func TestConsentPagePrefillOnlyWithAutoFill(t *testing.T) {
	plain := startServer(t, Config{})
	if r := do(t, "GET", plain.ConsentURL()+"?code=ABC123", "", nil); strings.Contains(string(r.body), `value="ABC123"`) {
		t.Fatal("?code= pre-filled although auto-fill is off (MAS ignores it)")
	}
	auto := startServer(t, Config{VerificationURIComplete: true})
	if r := do(t, "GET", auto.ConsentURL()+"?code=abc123", "", nil); !strings.Contains(string(r.body), `value="ABC123"`) {
		t.Fatalf("?code= not pre-filled with auto-fill on: %s", r.body)
	}
}

// TestXOAuth2DeviceFlow uses golang.org/x/oauth2 as an independent client.
// What it does with MAS's 403: its token round trip turns any non-2xx
// answer into a *RetrieveError and reads "error" from the JSON body
// whatever the status, so 403 authorization_pending keeps it polling and
// 403 access_denied / expired_token end the flow with that ErrorCode, just
// as with RFC 8628's 400. AuthStyleInParams matters: with the default
// auto-detection, x/oauth2 retries every failed poll once with the other
// client-authentication style, doubling the polls.
func TestXOAuth2DeviceFlow(t *testing.T) {
	s := startServer(t, Config{PollInterval: time.Second})
	clientID := register(t, s, deviceClientMetadata())
	cfg := oauth2.Config{
		ClientID: clientID,
		Scopes:   []string{ScopeAPIStable, ScopeDevicePrefixStable + testDeviceID},
		Endpoint: oauth2.Endpoint{
			DeviceAuthURL: s.URL() + pathDevice,
			TokenURL:      s.URL() + pathToken,
			AuthStyle:     oauth2.AuthStyleInParams,
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatalf("DeviceAuth: %v", err)
	}
	if da.VerificationURI != s.ConsentURL() || da.Interval != 1 {
		t.Fatalf("device auth %+v", da)
	}
	go func() {
		time.Sleep(1500 * time.Millisecond) // after at least one pending poll
		_ = s.Approve(da.UserCode)
	}()
	tok, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatalf("DeviceAccessToken: %v", err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.Expiry.IsZero() {
		t.Fatalf("token %+v", tok)
	}
	who := do(t, "GET", s.URL()+"/_matrix/client/v3/account/whoami", tok.AccessToken, nil).json(t)
	if who["device_id"] != testDeviceID {
		t.Fatalf("whoami %v", who)
	}

	// Refresh through x/oauth2's TokenSource: rotation hands back a new
	// refresh token.
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Minute)
	fresh, err := cfg.TokenSource(ctx, &expired).Token()
	if err != nil {
		t.Fatalf("refresh via x/oauth2: %v", err)
	}
	if fresh.RefreshToken == tok.RefreshToken || fresh.AccessToken == tok.AccessToken {
		t.Fatal("x/oauth2 refresh did not rotate")
	}

	// Denial: MAS's 403 access_denied surfaces as RetrieveError.
	cfg.Scopes = []string{ScopeAPIStable, ScopeDevicePrefixStable + "DENIEDDEV01"}
	da, err = cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Deny(da.UserCode); err != nil {
		t.Fatal(err)
	}
	_, err = cfg.DeviceAccessToken(ctx, da)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != errAccessDenied || re.Response.StatusCode != http.StatusForbidden {
		t.Fatalf("denied flow: %v", err)
	}
}
