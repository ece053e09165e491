package devserver

import (
	"net/http"
	"net/url"
	"testing"
)

// BenchmarkDeviceGrant is one whole device grant over loopback HTTP:
// device authorization, approval, token exchange (which creates the device).
func BenchmarkDeviceGrant(b *testing.B) {
	s := startServer(b, Config{})
	clientID := register(b, s, deviceClientMetadata())
	for b.Loop() {
		da := startDeviceGrant(b, s, clientID, stableScope("BENCHDEVICE"))
		if err := s.Approve(da.UserCode); err != nil {
			b.Fatal(err)
		}
		if r := poll(b, s, clientID, da.DeviceCode); r.status != http.StatusOK {
			b.Fatalf("status %d", r.status)
		}
	}
}

// BenchmarkPendingPoll is the hot path while the user consents: a 403
// authorization_pending answer.
func BenchmarkPendingPoll(b *testing.B) {
	s := startServer(b, Config{})
	clientID := register(b, s, deviceClientMetadata())
	da := startDeviceGrant(b, s, clientID, stableScope("BENCHDEVICE"))
	form := url.Values{"grant_type": {GrantTypeDeviceCode}, "device_code": {da.DeviceCode}, "client_id": {clientID}}
	for b.Loop() {
		if r := do(b, "POST", s.URL()+pathToken, "", form); r.status != http.StatusForbidden {
			b.Fatalf("status %d", r.status)
		}
	}
}
