package devserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for Config.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// startServer runs a dev server on 127.0.0.1 for the test's lifetime.
func startServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Start(ctx, "127.0.0.1:0"); err != nil {
		cancel()
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = s.Close()
	})
	return s
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// textPlain is a request body sent as exactly "text/plain" (the 2024
// rendezvous insists on it).
type textPlain string

// do sends one request; body may be nil, url.Values (form), []byte (raw
// JSON), textPlain or anything else (marshalled to JSON).
func do(t testing.TB, method, rawURL, token string, body any) response {
	t.Helper()
	var rd io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, contentType = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case []byte:
		rd, contentType = bytes.NewReader(b), "application/json"
	case textPlain:
		rd, contentType = strings.NewReader(string(b)), "text/plain"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd, contentType = bytes.NewReader(raw), "application/json"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: raw}
}

// expect checks status and, for error bodies, errcode/error.
func expect(t testing.TB, r response, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if code == "" {
		return
	}
	m := r.json(t)
	got, _ := m["errcode"].(string)
	if got == "" {
		got, _ = m["error"].(string)
	}
	if got != code {
		t.Fatalf("error %q, want %q; body %s", got, code, r.body)
	}
}

// deviceClientMetadata is MAS's minimal device-code-only public client
// (docs/protocol-divergences.md "Client registration").
func deviceClientMetadata() map[string]any {
	return map[string]any{
		"client_name":                "qrlogin test",
		"client_uri":                 "https://qrlogin.example.org",
		"grant_types":                []string{GrantTypeDeviceCode, "refresh_token"},
		"application_type":           "native",
		"token_endpoint_auth_method": "none",
	}
}

// register registers metadata and returns the client_id.
func register(t testing.TB, s *Server, metadata map[string]any) string {
	t.Helper()
	r := do(t, "POST", s.URL()+pathRegistration, "", metadata)
	expect(t, r, http.StatusCreated, "")
	id, _ := r.json(t)["client_id"].(string)
	if id == "" {
		t.Fatalf("no client_id: %s", r.body)
	}
	return id
}

// startDeviceGrant asks for a device code and returns the response fields.
func startDeviceGrant(t testing.TB, s *Server, clientID, scope string) deviceAuthorizationResponse {
	t.Helper()
	r := do(t, "POST", s.URL()+pathDevice, "", url.Values{"client_id": {clientID}, "scope": {scope}})
	expect(t, r, http.StatusOK, "")
	var da deviceAuthorizationResponse
	if err := json.Unmarshal(r.body, &da); err != nil {
		t.Fatal(err)
	}
	return da
}

func poll(t testing.TB, s *Server, clientID, deviceCode string) response {
	t.Helper()
	return do(t, "POST", s.URL()+pathToken, "", url.Values{
		"grant_type": {GrantTypeDeviceCode}, "device_code": {deviceCode}, "client_id": {clientID},
	})
}

const testDeviceID = "QRLOGINDEV1"

func stableScope(deviceID string) string {
	return ScopeAPIStable + " " + ScopeDevicePrefixStable + deviceID
}

// login runs the whole device grant and returns the token response.
func login(t testing.TB, s *Server, deviceID string) (clientID string, tok tokenResponse) {
	t.Helper()
	clientID = register(t, s, deviceClientMetadata())
	da := startDeviceGrant(t, s, clientID, stableScope(deviceID))
	if err := s.Approve(da.UserCode); err != nil {
		t.Fatalf("Approve: %v", err)
	}
	r := poll(t, s, clientID, da.DeviceCode)
	expect(t, r, http.StatusOK, "")
	if err := json.Unmarshal(r.body, &tok); err != nil {
		t.Fatal(err)
	}
	return clientID, tok
}
