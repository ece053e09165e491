package devserver

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// These tests run the rendezvous package's real server behind the dev
// server's gating.

func TestRealRendezvous2024(t *testing.T) {
	clock := newFakeClock()
	s := startServer(t, Config{Now: clock.Now})
	r := do(t, "POST", s.URL()+pathRendezvous2024Create, "", textPlain(""))
	expect(t, r, http.StatusCreated, "")
	if r.header.Get("ETag") == "" {
		t.Fatalf("2024 create without ETag: %v", r.header)
	}
	var created struct{ URL string }
	if err := json.Unmarshal(r.body, &created); err != nil || !strings.HasPrefix(created.URL, s.URL()+pathRendezvous2024+"/") {
		t.Fatalf("session URL %q (%v)", created.URL, err)
	}
	expect(t, do(t, "GET", created.URL, "", nil), http.StatusOK, "")
	// Synapse's 60 s, counted on the dev server's clock.
	clock.Advance(DefaultSessionTTL2024)
	expect(t, do(t, "GET", created.URL, "", nil), http.StatusNotFound, "M_NOT_FOUND")
}

func TestRealRendezvousMSC4388(t *testing.T) {
	s := startServer(t, Config{SessionTTLMSC4388: 120 * time.Second})
	r := do(t, "POST", s.URL()+pathRendezvousMSC4388, "", map[string]string{"data": "hello"})
	expect(t, r, http.StatusOK, "")
	m := r.json(t)
	if m["id"] == nil || m["sequence_token"] == nil || m["expires_in_ms"] != float64(120000) {
		t.Fatalf("create %s", r.body)
	}
	got := do(t, "GET", s.URL()+pathRendezvousMSC4388+"/"+m["id"].(string), "", nil)
	expect(t, got, http.StatusOK, "")
	if got.json(t)["data"] != "hello" {
		t.Fatalf("read %s", got.body)
	}
	expect(t, do(t, "POST", s.URL()+pathRendezvousMSC4388V1, "", map[string]string{"data": ""}), http.StatusNotFound, "M_UNRECOGNIZED")
}

func TestRealRendezvousAuthenticated(t *testing.T) {
	s := startServer(t, Config{MSC4388: MSC4388Authenticated})
	for _, p := range []string{pathRendezvousMSC4388, pathRendezvousMSC4388 + "/"} {
		expect(t, do(t, "POST", s.URL()+p, "", map[string]string{"data": ""}), http.StatusUnauthorized, "M_MISSING_TOKEN")
	}
	phone, err := s.LoginDevice("PHONEDEVICE")
	if err != nil {
		t.Fatal(err)
	}
	disc := do(t, "GET", s.URL()+pathRendezvousMSC4388, phone.AccessToken.Reveal(), nil)
	expect(t, disc, http.StatusOK, "")
	if disc.json(t)["create_available"] != true {
		t.Fatalf("discovery %s", disc.body)
	}
	expect(t, do(t, "POST", s.URL()+pathRendezvousMSC4388, phone.AccessToken.Reveal(), map[string]string{"data": ""}), http.StatusOK, "")
}

// TestRealRendezvousNoPerClientLimits: the development homeserver's
// rendezvous has none of the public server's per-client limits
// (server.DefaultConfig): every test client there is 127.0.0.1, and tests
// create sessions fast.
func TestRealRendezvousNoPerClientLimits(t *testing.T) {
	s := startServer(t, Config{})
	for i := range 50 {
		r := do(t, "POST", s.URL()+pathRendezvousMSC4388, "", map[string]string{"data": "x"})
		if r.status != http.StatusOK {
			t.Fatalf("create %d from one client: %d %s", i+1, r.status, r.body)
		}
	}
}
