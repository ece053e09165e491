package e2e

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/internal/phone"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
)

// eachGeneration runs f as a parallel subtest per protocol generation.
func eachGeneration(t *testing.T, f func(t *testing.T, gen string)) {
	t.Helper()
	requireSession(t)
	t.Parallel()
	for _, gen := range generations {
		t.Run(gen, func(t *testing.T) {
			t.Parallel()
			f(t, gen)
		})
	}
}

// expectNotStored checks that a failed sign-in left no account behind:
// nothing in the keyring, and no device on the server that the tokens of
// the attempt created (they must be revoked).
func expectNotStored(t *testing.T, srv *devserver.Server, o *outcome) {
	t.Helper()
	if a, ok := findAccount(t, srv.UserID()); ok {
		t.Errorf("a failed sign-in stored an account: %+v", a)
	}
	if o != nil && o.phoneRes != nil && o.phoneRes.NewDeviceID != "" {
		if _, ok := srv.Device(o.phoneRes.NewDeviceID); ok {
			t.Errorf("device %s is still on the server after the failed sign-in", o.phoneRes.NewDeviceID)
		}
	}
}

func TestDenyOnTheConsentPage(t *testing.T) {
	eachGeneration(t, func(t *testing.T, gen string) {
		srv := startServer(t, devserver.Config{})
		o := login(t, srv, scenario{gen: gen, script: phone.Script{Deny: true}})
		expectPrefix(t, o, "qr", "check_code_needed", "secure_channel_established", "homeserver", "user_code")
		expectError(t, o, "declined")
		if !errors.Is(o.phoneErr, phone.ErrDeclined) {
			t.Errorf("the phone heard %v, want m.login.declined", o.phoneErr)
		}
		expectNotStored(t, srv, o)
		expectNoSecrets(t, srv, "login output", o.stdout, o.stderr)
	})
}

func TestDeviceCodeExpires(t *testing.T) {
	eachGeneration(t, func(t *testing.T, gen string) {
		srv := startServer(t, devserver.Config{DeviceCodeLifetime: 2 * time.Second})
		o := login(t, srv, scenario{gen: gen, script: phone.Script{SilentAt: phone.StepConsent}})
		expectPrefix(t, o, "qr", "check_code_needed", "secure_channel_established", "homeserver", "user_code")
		expectError(t, o, "authorization_expired")
		var pf *phone.PeerFailure
		if !errors.As(o.phoneErr, &pf) || pf.Reason != "authorization_expired" {
			t.Errorf("the phone heard %v, want m.login.failure authorization_expired", o.phoneErr)
		}
		expectNotStored(t, srv, o)
	})
}

func TestWrongCheckCode(t *testing.T) {
	eachGeneration(t, func(t *testing.T, gen string) {
		srv := startServer(t, devserver.Config{})
		o := login(t, srv, scenario{gen: gen, wrongCode: true})
		expectPrefix(t, o, "qr", "check_code_needed")
		expectError(t, o, "check_code_mismatch")
		if _, ok := o.find("secure_channel_established"); ok {
			t.Error("secure_channel_established after a wrong check code")
		}
		if !errors.Is(o.phoneErr, rendezvous.ErrExpired) {
			t.Errorf("the phone got %v, want the rendezvous deleted", o.phoneErr)
		}
		expectNotStored(t, srv, o)
	})
}

// TestPhoneFailureReasons: every m.login.failure reason of MSC4108 (and
// one nobody defined) becomes the error code, as given. The reasons
// alternate between the generations and the steps where a phone can give up.
func TestPhoneFailureReasons(t *testing.T) {
	requireSession(t)
	t.Parallel()
	reasons := []string{
		"authorization_expired", "device_already_exists", "device_not_found", "unexpected_message_received",
		"unsupported_protocol", "user_cancelled", "unable_to_open_verification_uri", "org.example.something_new",
	}
	steps := []phone.Step{phone.StepProtocols, phone.StepProtocolAccepted, phone.StepConsent, phone.StepSecrets}
	for i, reason := range reasons {
		gen, step := generations[i%2], steps[(i/2)%len(steps)]
		t.Run(reason, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, devserver.Config{})
			o := login(t, srv, scenario{gen: gen, script: phone.Script{FailAt: step, FailReason: reason}})
			expectError(t, o, reason)
			var sf *phone.SentFailureError
			if !errors.As(o.phoneErr, &sf) || sf.Reason != reason {
				t.Errorf("phone: %v", o.phoneErr)
			}
			expectNotStored(t, srv, o)
			expectNoSecrets(t, srv, "login output", o.stdout, o.stderr)
		})
	}
}

func TestTamperedMessage(t *testing.T) {
	eachGeneration(t, func(t *testing.T, gen string) {
		srv := startServer(t, devserver.Config{})
		o := login(t, srv, scenario{gen: gen, script: phone.Script{TamperAt: phone.StepProtocols}})
		expectError(t, o, "secure_channel_failed")
		expectNotStored(t, srv, o)
	})
}

// TestTamperedOrReplayedSecrets: an m.login.secrets that does not open
// (changed on the wire, or an earlier ciphertext played back) ends the
// sign-in as an attack: secure_channel_failed with words about
// interference, the new device revoked, nothing in the keyring.
func TestTamperedOrReplayedSecrets(t *testing.T) {
	requireSession(t)
	t.Parallel()
	for _, attack := range []struct {
		name   string
		script phone.Script
	}{
		{"tampered", phone.Script{TamperAt: phone.StepSecrets}},
		{"replayed", phone.Script{ReplayAt: phone.StepSecrets}},
	} {
		for _, gen := range generations {
			t.Run(attack.name+"/"+gen, func(t *testing.T) {
				t.Parallel()
				srv := startServer(t, devserver.Config{})
				o := login(t, srv, scenario{gen: gen, script: attack.script})
				expectPrefix(t, o, "qr", "check_code_needed", "secure_channel_established", "homeserver", "user_code", "logged_in")
				expectError(t, o, "secure_channel_failed")
				if msg := o.last().str("message"); !strings.Contains(msg, "interfered") {
					t.Errorf("error message %q does not say that someone may have interfered", msg)
				}
				if _, ok := o.find("done"); ok {
					t.Error("done after a secrets message that did not open")
				}
				expectNotStored(t, srv, o)
				expectNoSecrets(t, srv, "login output", o.stdout, o.stderr)
			})
		}
	}
}

// TestWhoamiNamesAnotherDevice: the server's whoami names another device
// than the one the computer asked for: device_not_found on both sides, the
// tokens revoked, nothing stored.
func TestWhoamiNamesAnotherDevice(t *testing.T) {
	eachGeneration(t, func(t *testing.T, gen string) {
		srv := startServer(t, devserver.Config{})
		if err := srv.InjectWhoamiFault(devserver.WhoamiFault{DeviceID: "SOMEONEELSE", Count: 1}); err != nil {
			t.Fatal(err)
		}
		o := login(t, srv, scenario{gen: gen})
		expectPrefix(t, o, "qr", "check_code_needed", "secure_channel_established", "homeserver", "user_code")
		expectError(t, o, "device_not_found")
		var pf *phone.PeerFailure
		if !errors.As(o.phoneErr, &pf) || pf.Reason != "device_not_found" {
			t.Errorf("the phone heard %v, want m.login.failure device_not_found", o.phoneErr)
		}
		expectNotStored(t, srv, o)
	})
}

func TestUnexpectedMessage(t *testing.T) {
	eachGeneration(t, func(t *testing.T, gen string) {
		srv := startServer(t, devserver.Config{})
		o := login(t, srv, scenario{gen: gen, script: phone.Script{UnexpectedAt: phone.StepProtocolAccepted}})
		expectError(t, o, "unexpected_message_received")
		var pf *phone.PeerFailure
		if !errors.As(o.phoneErr, &pf) || pf.Reason != "unexpected_message_received" {
			t.Errorf("the phone heard %v, want unexpected_message_received", o.phoneErr)
		}
		expectNotStored(t, srv, o)
	})
}

// TestRendezvousExpiresBeforeScan: nobody scans the first code; when its
// rendezvous expires a fresh QR code appears, and scanning that one works.
func TestRendezvousExpiresBeforeScan(t *testing.T) {
	eachGeneration(t, func(t *testing.T, gen string) {
		srv := startServer(t, devserver.Config{SessionTTL2024: 3 * time.Second, SessionTTLMSC4388: 3 * time.Second})
		o := login(t, srv, scenario{gen: gen, skipQRs: 1})
		if o.exit != 0 {
			t.Fatalf("login failed: %s", o)
		}
		expectPrefix(t, o, "qr", "qr", "check_code_needed", "secure_channel_established")
		if o.events[0].str("data") == o.events[1].str("data") {
			t.Error("the fresh QR code is the same as the expired one")
		}
		logout(t, srv)
	})
}

// TestRendezvousExpiresMidFlow: the phone scans, then never sends
// m.login.protocols; the session runs out on the server.
func TestRendezvousExpiresMidFlow(t *testing.T) {
	eachGeneration(t, func(t *testing.T, gen string) {
		srv := startServer(t, devserver.Config{SessionTTL2024: 4 * time.Second, SessionTTLMSC4388: 4 * time.Second})
		o := login(t, srv, scenario{gen: gen, script: phone.Script{SilentAt: phone.StepProtocols}})
		expectPrefix(t, o, "qr", "check_code_needed", "secure_channel_established")
		expectError(t, o, "rendezvous_expired")
		expectNotStored(t, srv, o)
	})
}

// TestWrongSecrets: keys that do not match the account are refused with a
// warning; the sign-in still finishes, unverified, and keeps the tokens.
func TestWrongSecrets(t *testing.T) {
	eachGeneration(t, func(t *testing.T, gen string) {
		srv := startServer(t, devserver.Config{})
		o := login(t, srv, scenario{gen: gen, script: phone.Script{WrongSecrets: true}})
		if o.exit != 0 || o.phoneErr != nil {
			t.Fatalf("login failed: %s", o)
		}
		w, ok := o.find("warning")
		if !ok || w.str("code") != "secrets_mismatch" || w.str("message") == "" {
			t.Errorf("warning event %v (found %v)", w, ok)
		}
		if s, _ := o.find("secrets"); s["cross_signing"] != false || s["backup"] != false {
			t.Errorf("secrets event %v", s)
		}
		if done := o.last(); done.name() != "done" || done["verified"] != false {
			t.Errorf("last event %v, want done with verified false", done)
		}
		if a, ok := findAccount(t, srv.UserID()); !ok || a.Verified {
			t.Errorf("account %+v (found %v), want it stored unverified", a, ok)
		}
		expectNoSecrets(t, srv, "login output", o.stdout, o.stderr)
		logout(t, srv)
	})
}

// TestBackupMismatchKeepsCrossSigning: a key backup that cannot be
// matched (here room_keys/version refuses with 403) drops only the backup
// key with the backup_mismatch warning; the verified cross-signing keys
// are kept and the device is verified.
func TestBackupMismatchKeepsCrossSigning(t *testing.T) {
	eachGeneration(t, func(t *testing.T, gen string) {
		srv := startServer(t, devserver.Config{})
		if err := srv.InjectFault(devserver.Fault{PathPrefix: "/_matrix/client/v3/room_keys/version", Count: 1, Status: 403}); err != nil {
			t.Fatal(err)
		}
		o := login(t, srv, scenario{gen: gen})
		if o.exit != 0 || o.phoneErr != nil {
			t.Fatalf("login failed: %s", o)
		}
		if w, ok := o.find("warning"); !ok || w.str("code") != "backup_mismatch" || w.str("message") == "" {
			t.Errorf("warning event %v (found %v), want backup_mismatch", w, ok)
		}
		if s, _ := o.find("secrets"); s["cross_signing"] != true || s["backup"] != false {
			t.Errorf("secrets event %v, want cross_signing true and backup false", s)
		}
		if done := o.last(); done.name() != "done" || done["verified"] != true {
			t.Errorf("last event %v, want done with verified true", done)
		}
		if a, ok := findAccount(t, srv.UserID()); !ok || !a.Verified {
			t.Errorf("account %+v (found %v), want it stored verified", a, ok)
		}
		expectNoSecrets(t, srv, "login output", o.stdout, o.stderr)
		logout(t, srv)
	})
}

// logout removes the test account of srv from the keyring.
func logout(t *testing.T, srv *devserver.Server) {
	t.Helper()
	if _, stderr, code := runCommand(t, commandEnv(), "logout", "--account", srv.UserID()); code != 0 {
		t.Errorf("qrlogin logout: exit %d\n%s", code, stderr)
	}
}
