package oauth

import (
	"testing"
	"time"
)

// BenchmarkParseToken: one token-endpoint answer.
func BenchmarkParseToken(b *testing.B) {
	body := []byte(`{"access_token":"mat_abcdefghijklmnopqrstuvwxyz0123","token_type":"Bearer","expires_in":300,"refresh_token":"mar_abcdefghijklmnopqrstuvwxyz0123","scope":"urn:matrix:client:api:* urn:matrix:client:device:ABCDEFGHJKLM"}`)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseToken(body, now); err != nil {
			b.Fatal(err)
		}
	}
}
