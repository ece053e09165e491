package devserver

import (
	"errors"
	"testing"
)

func TestUserCodeForFindsThePendingGrantOfADevice(t *testing.T) {
	s := startServer(t, Config{})
	if _, err := s.UserCodeFor("NOSUCHDEVICE"); !errors.Is(err, ErrNoPendingGrant) {
		t.Fatalf("UserCodeFor(unknown) = %v, want ErrNoPendingGrant", err)
	}
	clientID := register(t, s, deviceClientMetadata())
	da := startDeviceGrant(t, s, clientID, stableScope("PHONEHOOK01"))
	code, err := s.UserCodeFor("PHONEHOOK01")
	if err != nil || code != da.UserCode {
		t.Fatalf("UserCodeFor = %q, %v; want %q", code, err, da.UserCode)
	}
	if err := s.Approve(code); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserCodeFor("PHONEHOOK01"); !errors.Is(err, ErrNoPendingGrant) {
		t.Fatalf("UserCodeFor after approval = %v, want ErrNoPendingGrant", err)
	}
}
