package devserver

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// recordingRendezvous stands in for the rendezvous package's handler.
type recordingRendezvous struct{ opts RendezvousOptions }

func (h *recordingRendezvous) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"served": r.Method + " " + r.URL.Path})
}

func withRecorder(cfg Config) (Config, *recordingRendezvous) {
	rec := &recordingRendezvous{}
	cfg.Rendezvous = func(o RendezvousOptions) (http.Handler, error) {
		rec.opts = o
		return rec, nil
	}
	return cfg, rec
}

func TestRendezvousMountedForBothGenerations(t *testing.T) {
	cfg, rec := withRecorder(Config{SessionTTL2024: 7 * time.Second, SessionTTLMSC4388: 9 * time.Second})
	s := startServer(t, cfg)
	if rec.opts.BaseURL != s.URL() || rec.opts.SessionTTL2024 != 7*time.Second || rec.opts.SessionTTLMSC4388 != 9*time.Second ||
		!rec.opts.Offer2024 || rec.opts.MSC4388 != MSC4388Open {
		t.Fatalf("options %+v", rec.opts)
	}
	for _, p := range []string{
		pathRendezvous2024Create,
		pathRendezvous2024 + "/01HX9K00Q1H6KPD47EG4G1T3XG",
		pathRendezvousMSC4388,
		pathRendezvousMSC4388 + "/01HX9K00Q1H6KPD47EG4G1T3XG",
	} {
		r := do(t, "POST", s.URL()+p, "", nil)
		expect(t, r, http.StatusOK, "")
		if got := r.json(t)["served"]; got != "POST "+p {
			t.Errorf("%s served as %v", p, got)
		}
	}
	// The MSC text's /v1/ path is off unless asked for (Synapse lacks it).
	expect(t, do(t, "GET", s.URL()+pathRendezvousMSC4388V1, "", nil), http.StatusNotFound, "M_UNRECOGNIZED")
	cfg2, _ := withRecorder(Config{MSC4388StablePaths: true})
	s2 := startServer(t, cfg2)
	expect(t, do(t, "GET", s2.URL()+pathRendezvousMSC4388V1, "", nil), http.StatusOK, "")
}

func TestRendezvousGenerationsOff(t *testing.T) {
	cfg, _ := withRecorder(Config{Disable2024: true, MSC4388: MSC4388Off})
	s := startServer(t, cfg)
	for _, p := range []string{pathRendezvous2024Create, pathRendezvous2024 + "/X", pathRendezvousMSC4388, pathRendezvousMSC4388 + "/X"} {
		expect(t, do(t, "POST", s.URL()+p, "", nil), http.StatusNotFound, "M_UNRECOGNIZED")
	}
}

func TestRendezvousAuthenticatedMode(t *testing.T) {
	cfg, _ := withRecorder(Config{MSC4388: MSC4388Authenticated})
	s := startServer(t, cfg)
	expect(t, do(t, "GET", s.URL()+pathRendezvousMSC4388, "", nil), http.StatusUnauthorized, "M_MISSING_TOKEN")
	expect(t, do(t, "POST", s.URL()+pathRendezvousMSC4388, "mat_bogus", nil), http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
	phone, err := s.LoginDevice("PHONEDEVICE")
	if err != nil {
		t.Fatal(err)
	}
	expect(t, do(t, "POST", s.URL()+pathRendezvousMSC4388, phone.AccessToken.Reveal(), nil), http.StatusOK, "")
	// Reading and writing a session never needs a token
	// (docs/protocol-divergences.md "MSC4388 rendezvous on Synapse").
	expect(t, do(t, "PUT", s.URL()+pathRendezvousMSC4388+"/01HX9K00Q1H6KPD47EG4G1T3XG", "", nil), http.StatusOK, "")
	// The 2024 create takes no token either.
	expect(t, do(t, "POST", s.URL()+pathRendezvous2024Create, "", nil), http.StatusOK, "")
}

func TestRendezvousWithoutHandler(t *testing.T) {
	if defaultRendezvousFactory != nil {
		t.Skip("the rendezvous package's server is wired in")
	}
	s := startServer(t, Config{})
	expect(t, do(t, "POST", s.URL()+pathRendezvous2024Create, "", nil), http.StatusNotFound, "M_UNRECOGNIZED")
}

func TestRendezvousFactoryError(t *testing.T) {
	_, err := New(Config{BaseURL: "http://127.0.0.1:1", Rendezvous: func(RendezvousOptions) (http.Handler, error) {
		return nil, errors.New("boom")
	}})
	if err == nil {
		t.Fatal("factory error ignored")
	}
}

func TestFaultInjection(t *testing.T) {
	cfg, _ := withRecorder(Config{})
	s := startServer(t, cfg)
	if err := s.InjectFault(Fault{PathPrefix: pathRendezvousMSC4388, Count: 2, Status: http.StatusTooManyRequests, RetryAfter: 1500 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if err := s.InjectFault(Fault{PathPrefix: pathToken, Count: 1, Status: http.StatusInternalServerError}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		r := do(t, "POST", s.URL()+pathRendezvousMSC4388, "", nil)
		expect(t, r, http.StatusTooManyRequests, "M_LIMIT_EXCEEDED")
		if r.header.Get("Retry-After") != "2" || r.json(t)["retry_after_ms"] != float64(1500) {
			t.Fatalf("429 without retry hints: %v %s", r.header, r.body)
		}
	}
	expect(t, do(t, "POST", s.URL()+pathRendezvousMSC4388, "", nil), http.StatusOK, "")
	expect(t, do(t, "POST", s.URL()+pathToken, "", nil), http.StatusInternalServerError, "M_UNKNOWN")
	expect(t, do(t, "POST", s.URL()+pathToken, "", nil), http.StatusUnauthorized, errInvalidClient)
	if err := s.InjectFault(Fault{PathPrefix: "/_matrix/client/v3/devices/", Count: 1, Status: http.StatusNotFound, Errcode: "M_UNRECOGNIZED"}); err != nil {
		t.Fatal(err)
	}
	expect(t, do(t, "GET", s.URL()+"/_matrix/client/v3/devices/X", "", nil), http.StatusNotFound, "M_UNRECOGNIZED")

	for _, bad := range []Fault{{PathPrefix: "x", Count: 1, Status: 500}, {PathPrefix: "/", Count: 0, Status: 500}, {PathPrefix: "/", Count: 1, Status: 200}} {
		if s.InjectFault(bad) == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	for _, cfg := range []Config{
		{MSC4388: "sometimes"},
		{DeviceCodeLifetime: -time.Second},
		{BaseURL: "ftp://127.0.0.1"},
		{BaseURL: "not a url"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	s, err := New(Config{PollInterval: 10 * time.Millisecond, BaseURL: "http://127.0.0.1:8008/"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.cfg.PollInterval != time.Second || s.URL() != "http://127.0.0.1:8008" || s.UserID() != "@alice:127.0.0.1:8008" {
		t.Fatalf("interval %v, URL %s, user %s", s.cfg.PollInterval, s.URL(), s.UserID())
	}
	if got := strconv.FormatInt(wholeSeconds(1500*time.Millisecond), 10); got != "2" {
		t.Fatalf("wholeSeconds(1.5s) = %s", got)
	}
}

func TestNotReadyAndClosed(t *testing.T) {
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AccountSecrets(); err == nil {
		t.Fatal("secrets before the server name is known")
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/_matrix/client/versions", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("before Start: %d", rec.Code)
	}
	s2 := startServer(t, Config{})
	url := s2.URL()
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.AccountSecrets(); err == nil {
		t.Fatal("secrets after Close")
	}
	if _, err := http.Get(url + "/_matrix/client/versions"); err == nil {
		t.Fatal("still serving after Close")
	}
}
