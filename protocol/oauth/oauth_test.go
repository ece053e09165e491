package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeClock drives the poller without real waiting.
type fakeClock struct {
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

// startFlow runs discovery, registration and device authorization against
// the fake MAS and returns the client and the device authorization.
func startFlow(t *testing.T, m *fakeMAS) (*Client, *DeviceAuthorization) {
	t.Helper()
	ctx := context.Background()
	meta, err := Discover(ctx, m.srv.Client(), m.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	id, err := ClientIDFor(ctx, m.srv.Client(), meta, &MemoryCache{})
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{HTTP: m.srv.Client(), Metadata: meta, ClientID: id}
	scopes, err := Scopes(NewDeviceID(), false)
	if err != nil {
		t.Fatal(err)
	}
	da, err := c.StartDeviceAuthorization(ctx, scopes)
	if err != nil {
		t.Fatal(err)
	}
	return c, da
}

func poller(c *Client, clk *fakeClock) *Poller {
	return &Poller{Client: c, Now: clk.Now, Sleep: clk.Sleep}
}

func TestDeviceFlowApprovedAfterPending(t *testing.T) {
	m := newFakeMAS(t)
	c, da := startFlow(t, m)
	if da.ExpiresIn != 1200*time.Second || da.Interval != 5*time.Second || len(da.UserCode) != 6 {
		t.Fatalf("device authorization not parsed as MAS sent it: %v", da)
	}
	if da.VerificationURIComplete != "" {
		t.Fatal("MAS omits verification_uri_complete by default")
	}
	m.pollScript = []string{"pending", "pending", "approve"}
	clk := &fakeClock{now: time.Now()}
	da.Expiry = clk.now.Add(da.ExpiresIn)
	tok, err := poller(c, clk).Poll(context.Background(), da)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.AccessToken, "mat_") || !strings.HasPrefix(tok.RefreshToken, "mar_") {
		t.Fatalf("unexpected tokens %v", tok)
	}
	if m.polls != 3 || !slices.Equal(clk.sleeps, []time.Duration{5 * time.Second, 5 * time.Second}) {
		t.Fatalf("polls=%d sleeps=%v, want 3 polls 5 s apart", m.polls, clk.sleeps)
	}
	if got := tok.Expiry.Sub(clk.now); got != 300*time.Second {
		t.Fatalf("expiry %v after the answer, want 300s", got)
	}
	// Re-using an exchanged device code: 400 invalid_grant, a typed error.
	_, err = poller(c, clk).Poll(context.Background(), da)
	var oe *Error
	if !errors.As(err, &oe) || oe.Status != 400 || oe.Code != "invalid_grant" {
		t.Fatalf("re-used code: got %v, want 400 invalid_grant", err)
	}
}

func TestDeviceFlowSlowDownAddsFiveSeconds(t *testing.T) {
	m := newFakeMAS(t)
	c, da := startFlow(t, m)
	m.pollScript = []string{"slow_down", "pending", "slow_down", "approve"}
	clk := &fakeClock{now: time.Now()}
	da.Expiry = time.Time{}
	if _, err := poller(c, clk).Poll(context.Background(), da); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{10 * time.Second, 10 * time.Second, 15 * time.Second}
	if !slices.Equal(clk.sleeps, want) {
		t.Fatalf("sleeps %v, want %v (RFC 8628 §3.5: slow_down adds 5 s for good)", clk.sleeps, want)
	}
}

func TestDeviceFlowDeniedAndExpired(t *testing.T) {
	for _, tc := range []struct {
		script []string
		want   error
	}{
		{[]string{"pending", "denied"}, ErrAccessDenied},
		{[]string{"expired"}, ErrAuthorizationExpired},
	} {
		m := newFakeMAS(t)
		c, da := startFlow(t, m)
		m.pollScript = tc.script
		clk := &fakeClock{now: time.Now()}
		da.Expiry = time.Time{}
		if _, err := poller(c, clk).Poll(context.Background(), da); !errors.Is(err, tc.want) {
			t.Fatalf("script %v: got %v, want %v", tc.script, err, tc.want)
		}
	}
}

func TestDeviceFlowOwnDeadline(t *testing.T) {
	m := newFakeMAS(t)
	c, da := startFlow(t, m)
	// MAS keeps answering 403 authorization_pending; the code's lifetime ends.
	clk := &fakeClock{now: time.Now()}
	da.Expiry = clk.now.Add(12 * time.Second)
	_, err := poller(c, clk).Poll(context.Background(), da)
	if !errors.Is(err, ErrAuthorizationExpired) {
		t.Fatalf("got %v, want ErrAuthorizationExpired", err)
	}
	if m.polls != 3 { // at 0 s, 5 s, 10 s; 15 s is past the deadline
		t.Fatalf("polls = %d, want 3", m.polls)
	}
}

func TestDeviceFlowRealDeadlineAndCancel(t *testing.T) {
	m := newFakeMAS(t)
	c, da := startFlow(t, m)
	da.Expiry = time.Now().Add(150 * time.Millisecond)
	da.Interval = 20 * time.Millisecond
	start := time.Now()
	if _, err := c.PollToken(context.Background(), da); !errors.Is(err, ErrAuthorizationExpired) {
		t.Fatalf("got %v, want ErrAuthorizationExpired", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("took %v", el)
	}
	da.Expiry = time.Now().Add(time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.PollToken(ctx, da); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("parent cancel: got %v, want the context's error", err)
	}
}

func TestPollerOtherErrorsAreTyped(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		code   string
	}{
		{401, `{"error":"unauthorized_client"}`, "unauthorized_client"},
		{400, `{"error":"unsupported_grant_type"}`, "unsupported_grant_type"},
		{500, `<html>oops</html>`, ""},
		{403, `{"error":"authorization_pending"`, ""}, // truncated JSON is not "pending"
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tc.status)
			fmt.Fprint(w, tc.body)
		}))
		c := &Client{HTTP: srv.Client(), Metadata: &Metadata{TokenEndpoint: srv.URL}, ClientID: "c"}
		clk := &fakeClock{now: time.Now()}
		_, err := poller(c, clk).Poll(context.Background(), &DeviceAuthorization{DeviceCode: "d", ExpiresIn: time.Minute})
		var oe *Error
		if !errors.As(err, &oe) || oe.Status != tc.status || oe.Code != tc.code {
			t.Errorf("%d %s: got %v", tc.status, tc.body, err)
		}
		srv.Close()
	}
}

func TestPollerRetriesTransportFailuresBriefly(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // connection refused from now on
	c := &Client{HTTP: http.DefaultClient, Metadata: &Metadata{TokenEndpoint: url}, ClientID: "c"}
	clk := &fakeClock{now: time.Now()}
	_, err := poller(c, clk).Poll(context.Background(), &DeviceAuthorization{DeviceCode: "d", ExpiresIn: time.Hour})
	var te *transportError
	if !errors.As(err, &te) || len(clk.sleeps) != maxTransportFailures-1 {
		t.Fatalf("got %v after %d sleeps", err, len(clk.sleeps))
	}
}

func TestRegistrationShapeAndCache(t *testing.T) {
	m := newFakeMAS(t)
	ctx := context.Background()
	meta, err := Discover(ctx, m.srv.Client(), m.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	cache := &MemoryCache{}
	id1, err := ClientIDFor(ctx, m.srv.Client(), meta, cache)
	if err != nil {
		t.Fatal(err)
	}
	id2, err := ClientIDFor(ctx, m.srv.Client(), meta, cache)
	if err != nil || id1 != id2 || m.registrations != 1 {
		t.Fatalf("cache not used: %s %s %v registrations=%d", id1, id2, err, m.registrations)
	}
	id3, err := Register(ctx, m.srv.Client(), meta) // MAS deduplicates
	if err != nil || id3 != id1 {
		t.Fatalf("dedup: %s vs %s (%v)", id3, id1, err)
	}
	if got, _ := cache.ClientID(meta.Issuer); got != id1 {
		t.Fatalf("cached %q", got)
	}
	meta.RegistrationEndpoint = ""
	if _, err := ClientIDFor(ctx, nil, meta, &MemoryCache{}); !errors.Is(err, ErrRegistrationUnsupported) {
		t.Fatalf("got %v", err)
	}
}

func TestRegistrationBody(t *testing.T) {
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewDecoder(r.Body).Decode(&got)
		w.WriteHeader(201)
		fmt.Fprint(w, `{"client_id":"01JABC"}`)
	}))
	defer srv.Close()
	if _, err := Register(context.Background(), srv.Client(), &Metadata{RegistrationEndpoint: srv.URL}); err != nil {
		t.Fatal(err)
	}
	want := `{"application_type":"native","client_name":"qrlogin","client_uri":"https://github.com/qrlogin/qrlogin",` +
		`"grant_types":["urn:ietf:params:oauth:grant-type:device_code","refresh_token"],"token_endpoint_auth_method":"none"}`
	if b, _ := json.Marshal(got); string(b) != want {
		t.Fatalf("registration body\n got %s\nwant %s", b, want)
	}
}

func TestDiscoverFallbackAndErrors(t *testing.T) {
	m := newFakeMAS(t)
	m.stableMissing = true
	meta, err := Discover(context.Background(), m.srv.Client(), m.srv.URL+"/")
	if err != nil || meta.DeviceAuthorizationEndpoint != m.srv.URL+"/oauth2/device" {
		t.Fatalf("unstable fallback: %v %v", meta, err)
	}
	m.noDeviceGrant = true
	if _, err := Discover(context.Background(), m.srv.Client(), m.srv.URL); !errors.Is(err, ErrDeviceGrantUnsupported) {
		t.Fatalf("got %v, want ErrDeviceGrantUnsupported", err)
	}
	legacy := httptest.NewServer(http.NotFoundHandler())
	defer legacy.Close()
	if _, err := Discover(context.Background(), legacy.Client(), legacy.URL); !errors.Is(err, ErrNoOAuth) {
		t.Fatalf("got %v, want ErrNoOAuth", err)
	}
	if _, err := Discover(context.Background(), nil, "matrix.org"); err == nil {
		t.Fatal("a server name is not a base URL")
	}
}

func TestParseMetadataRejects(t *testing.T) {
	for _, body := range []string{
		`[]`,
		`{"issuer":"https://a/","token_endpoint":"https://a/t","device_authorization_endpoint":"https://a/d"}`,
		`{"issuer":"https://a/","grant_types_supported":["` + GrantTypeDeviceCode + `"],"device_authorization_endpoint":"https://a/d"}`,
		`{"issuer":"https://a/","grant_types_supported":["` + GrantTypeDeviceCode + `"],"token_endpoint":"javascript:x","device_authorization_endpoint":"https://a/d"}`,
		`{"issuer":"https://a/","grant_types_supported":["` + GrantTypeDeviceCode + `"],"token_endpoint":"https://a/t"}`,
	} {
		if _, err := ParseMetadata([]byte(body)); err == nil {
			t.Errorf("accepted %s", body)
		}
	}
}

func TestScopesNeverMixed(t *testing.T) {
	s, err := Scopes("ABCDEFGHIJ", false)
	if err != nil || !slices.Equal(s, []string{"urn:matrix:client:api:*", "urn:matrix:client:device:ABCDEFGHIJ"}) {
		t.Fatal(s, err)
	}
	u, err := Scopes("ABCDEFGHIJ", true)
	if err != nil || !slices.Equal(u, []string{"urn:matrix:org.matrix.msc2967.client:api:*", "urn:matrix:org.matrix.msc2967.client:device:ABCDEFGHIJ"}) {
		t.Fatal(u, err)
	}
	for _, bad := range []string{"SHORT", "ABCDEFGHIJ KL", "ABCDEFGHIJ%", "ÄBCDEFGHIJK"} {
		if _, err := Scopes(bad, false); err == nil {
			t.Errorf("accepted device ID %q", bad)
		}
	}
}

func TestUnstableScopesAgainstMAS(t *testing.T) {
	m := newFakeMAS(t)
	c, _ := startFlow(t, m)
	s, _ := Scopes(NewDeviceID(), true)
	if _, err := c.StartDeviceAuthorization(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.deviceScopes, s) {
		t.Fatalf("sent %v", m.deviceScopes)
	}
}

func TestNewDeviceID(t *testing.T) {
	re := regexp.MustCompile(`^[A-Z0-9]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := NewDeviceID()
		if !re.MatchString(id) || seen[id] {
			t.Fatalf("bad or repeated device ID %q", id)
		}
		seen[id] = true
	}
}

func TestRefreshRotationAndRevocation(t *testing.T) {
	m := newFakeMAS(t)
	c, da := startFlow(t, m)
	m.pollScript = []string{"approve"}
	first, err := poller(c, &fakeClock{now: time.Now()}).Poll(context.Background(), da)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Refresh(context.Background(), first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatal("refresh did not rotate")
	}
	// The old refresh token is spent: 400 invalid_grant.
	_, err = c.Refresh(context.Background(), first.RefreshToken)
	var oe *Error
	if !errors.As(err, &oe) || oe.Status != 400 || oe.Code != "invalid_grant" {
		t.Fatalf("old refresh token: %v", err)
	}
	if err := c.Revoke(context.Background(), second.RefreshToken, HintRefreshToken); err != nil {
		t.Fatal(err)
	}
	if m.revoked[second.RefreshToken] != HintRefreshToken {
		t.Fatalf("revocation not recorded: %v", m.revoked)
	}
	if _, err := c.Refresh(context.Background(), second.RefreshToken); err == nil {
		t.Fatal("revoked refresh token still works")
	}
	c.Metadata.RevocationEndpoint = ""
	if err := c.Revoke(context.Background(), "x", ""); !errors.Is(err, ErrRevocationUnsupported) {
		t.Fatal(err)
	}
}

func TestRefreshWithoutRotationKeepsOldToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"access_token":"new","token_type":"bearer"}`)
	}))
	defer srv.Close()
	c := &Client{HTTP: srv.Client(), Metadata: &Metadata{TokenEndpoint: srv.URL}, ClientID: "c"}
	tok, err := c.Refresh(context.Background(), "old-refresh")
	if err != nil || tok.RefreshToken != "old-refresh" || tok.AccessToken != "new" {
		t.Fatal(tok, err)
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	tok := Token{AccessToken: "mat_SECRET1", RefreshToken: "mar_SECRET2", TokenType: "Bearer"}
	da := DeviceAuthorization{DeviceCode: "DEVCODESECRET", UserCode: "ABC123"}
	j, _ := json.Marshal(tok)
	jp, _ := json.Marshal(&tok)
	for _, s := range []string{
		fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, &tok), string(j), string(jp),
		fmt.Sprintf("%v %+v %#v", da, da, &da),
	} {
		if strings.Contains(s, "SECRET") || !strings.Contains(s, "[redacted]") {
			t.Errorf("leak or no marker: %s", s)
		}
	}
}

func TestOversizedBodyRejected(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"issuer":"` + strings.Repeat("a", maxBodyBytes) + `"}`))
	}))
	defer srv.Close()
	if _, err := Discover(context.Background(), srv.Client(), srv.URL); err == nil || !strings.Contains(err.Error(), "larger") {
		t.Fatalf("got %v", err)
	}
}
