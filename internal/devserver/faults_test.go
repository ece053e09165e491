package devserver

import "testing"

// TestWhoamiFault: queued whoami faults name another device, or none, for
// as many answers as asked; then whoami tells the truth again.
func TestWhoamiFault(t *testing.T) {
	s := startServer(t, Config{})
	_, tok := login(t, s, testDeviceID)
	if err := s.InjectWhoamiFault(WhoamiFault{Count: 0}); err == nil {
		t.Fatal("a fault without a count was accepted")
	}
	if err := s.InjectWhoamiFault(WhoamiFault{DeviceID: "SOMEONEELSE", Count: 2}); err != nil {
		t.Fatal(err)
	}
	if err := s.InjectWhoamiFault(WhoamiFault{Count: 1}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []any{"SOMEONEELSE", "SOMEONEELSE", nil, testDeviceID} {
		who := do(t, "GET", s.URL()+"/_matrix/client/v3/account/whoami", tok.AccessToken, nil).json(t)
		if who["device_id"] != want || who["user_id"] != s.UserID() {
			t.Fatalf("answer %d: whoami %v, want device_id %v", i, who, want)
		}
	}
}
