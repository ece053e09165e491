package phone

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/msc4108"
	"github.com/qrlogin/qrlogin/protocol/qrcode"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

var generations = []vocab.Generation{vocab.MSC4388, vocab.MSC4108v2024}

func eachGeneration(t *testing.T, f func(t *testing.T, gen vocab.Generation)) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			t.Parallel()
			f(t, gen)
		})
	}
}

func TestSuccessSharesVerifiedSecrets(t *testing.T) {
	eachGeneration(t, func(t *testing.T, gen vocab.Generation) {
		srv := startDevServer(t, devserver.Config{})
		p := pair(t, srv, pairOptions{gen: gen})
		if p.flowErr != nil || p.phoneErr != nil {
			t.Fatalf("flow: %v; phone: %v", p.flowErr, p.phoneErr)
		}
		if p.phoneRes.Generation != gen || p.phoneRes.NewDeviceID != p.flowRes.DeviceID || len(p.phoneRes.CheckCode) != 2 {
			t.Fatalf("phone result %+v, flow device %s", p.phoneRes, p.flowRes.DeviceID)
		}
		if !p.flowRes.Verified || !p.flowRes.CrossSigning || !p.flowRes.Backup {
			t.Fatalf("flow result verified=%v cross=%v backup=%v", p.flowRes.Verified, p.flowRes.CrossSigning, p.flowRes.Backup)
		}
		d, ok := srv.Device(p.flowRes.DeviceID)
		if !ok || !d.CrossSigned {
			t.Fatalf("device on the server: %+v, %v", d, ok)
		}
	})
}

func TestDenyEndsWithDeclinedOnBothSides(t *testing.T) {
	eachGeneration(t, func(t *testing.T, gen vocab.Generation) {
		srv := startDevServer(t, devserver.Config{})
		p := pair(t, srv, pairOptions{gen: gen, script: Script{Deny: true}})
		if !errors.Is(p.flowErr, login.ErrDeclined) {
			t.Fatalf("flow error %v, want ErrDeclined", p.flowErr)
		}
		if !errors.Is(p.phoneErr, ErrDeclined) {
			t.Fatalf("phone error %v, want ErrDeclined", p.phoneErr)
		}
	})
}

func TestFailureReasonsReachTheNewDevice(t *testing.T) {
	for _, st := range []Step{StepProtocols, StepProtocolAccepted, StepConsent, StepSecrets} {
		st := st
		t.Run(string(st), func(t *testing.T) {
			t.Parallel()
			srv := startDevServer(t, devserver.Config{})
			p := pair(t, srv, pairOptions{gen: vocab.MSC4388, script: Script{FailAt: st, FailReason: "user_cancelled"}})
			var pf *login.PhoneFailure
			if !errors.As(p.flowErr, &pf) || pf.Reason != "user_cancelled" {
				t.Fatalf("flow error %v, want the phone's user_cancelled", p.flowErr)
			}
			var sf *SentFailureError
			if !errors.As(p.phoneErr, &sf) || sf.Reason != "user_cancelled" {
				t.Fatalf("phone error %v", p.phoneErr)
			}
		})
	}
}

func TestTamperedMessageBreaksTheChannel(t *testing.T) {
	eachGeneration(t, func(t *testing.T, gen vocab.Generation) {
		srv := startDevServer(t, devserver.Config{})
		p := pair(t, srv, pairOptions{gen: gen, script: Script{TamperAt: StepProtocolAccepted}})
		if !errors.Is(p.flowErr, securechannel.ErrDecrypt) {
			t.Fatalf("flow error %v, want ErrDecrypt", p.flowErr)
		}
		if !errors.Is(p.phoneErr, rendezvous.ErrExpired) {
			t.Fatalf("phone error %v, want the rendezvous gone", p.phoneErr)
		}
	})
}

func TestUnexpectedMessageIsAnswered(t *testing.T) {
	srv := startDevServer(t, devserver.Config{})
	p := pair(t, srv, pairOptions{gen: vocab.MSC4108v2024, script: Script{UnexpectedAt: StepProtocols}})
	var ue *login.UnexpectedMessageError
	if !errors.As(p.flowErr, &ue) {
		t.Fatalf("flow error %v, want UnexpectedMessageError", p.flowErr)
	}
	var pf *PeerFailure
	if !errors.As(p.phoneErr, &pf) || pf.Reason != msc4108.ReasonUnexpectedMessageReceived {
		t.Fatalf("phone error %v, want unexpected_message_received from the new device", p.phoneErr)
	}
}

func TestWrongSecretsFinishUnverified(t *testing.T) {
	srv := startDevServer(t, devserver.Config{})
	p := pair(t, srv, pairOptions{gen: vocab.MSC4388, script: Script{WrongSecrets: true}})
	if p.flowErr != nil || p.phoneErr != nil {
		t.Fatalf("flow: %v; phone: %v", p.flowErr, p.phoneErr)
	}
	if p.flowRes.Verified || p.flowRes.CrossSigning || p.flowRes.Secrets != nil {
		t.Fatalf("wrong secrets were accepted: %+v", p.flowRes)
	}
	warned := false
	for _, ev := range p.events {
		if w, ok := ev.(login.Warning); ok && w.Code == "secrets_mismatch" {
			warned = true
		}
	}
	if !warned {
		t.Fatalf("no secrets_mismatch warning in %v", p.events)
	}
}

func TestCheckCodeMismatchDeletesTheRendezvous(t *testing.T) {
	eachGeneration(t, func(t *testing.T, gen vocab.Generation) {
		srv := startDevServer(t, devserver.Config{})
		wrong := func(real string) string { return fmt.Sprintf("%02d", (securechannelCode(real)+1)%100) }
		p := pair(t, srv, pairOptions{gen: gen, typedCode: wrong})
		if !errors.Is(p.flowErr, securechannel.ErrCheckCodeMismatch) {
			t.Fatalf("flow error %v, want ErrCheckCodeMismatch", p.flowErr)
		}
		if !errors.Is(p.phoneErr, rendezvous.ErrExpired) {
			t.Fatalf("phone error %v, want the rendezvous deleted", p.phoneErr)
		}
	})
}

func TestSilentPhoneLetsTheDeviceCodeExpire(t *testing.T) {
	srv := startDevServer(t, devserver.Config{DeviceCodeLifetime: 2 * time.Second})
	p := pair(t, srv, pairOptions{gen: vocab.MSC4388, script: Script{SilentAt: StepConsent}})
	if !errors.Is(p.flowErr, login.ErrAuthorizationExpired) {
		t.Fatalf("flow error %v, want ErrAuthorizationExpired", p.flowErr)
	}
	var pf *PeerFailure
	if !errors.As(p.phoneErr, &pf) || pf.Reason != "authorization_expired" {
		t.Fatalf("phone error %v, want authorization_expired from the new device", p.phoneErr)
	}
}

func TestExistingDeviceCodeIsRefused(t *testing.T) {
	srv := startDevServer(t, devserver.Config{})
	qr, err := qrcode.Payload{Generation: vocab.MSC4388, Intent: qrcode.IntentExistingDevice,
		RendezvousID: "x", BaseURL: srv.URL()}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(t.Context(), Config{Homeserver: srv}, qr); !errors.Is(err, ErrNotNewDeviceCode) {
		t.Fatalf("Run = %v, want ErrNotNewDeviceCode", err)
	}
	if _, err := Run(t.Context(), Config{Homeserver: srv}, []byte("not a QR payload")); err == nil {
		t.Fatal("Run accepted garbage")
	}
}

func TestProtocolsMessageShapes(t *testing.T) {
	srv := startDevServer(t, devserver.Config{})
	base := srv.URL()
	for _, c := range []struct {
		gen              vocab.Generation
		serverName       bool
		baseURL, homesrv string
	}{
		{vocab.MSC4388, false, base, ""},
		{vocab.MSC4108v2024, false, "", base + "/"},
		{vocab.MSC4108v2024, true, "", base[len("http://"):]},
	} {
		r := &run{cfg: Config{Homeserver: srv, Script: Script{HomeserverAsServerName: c.serverName}}}
		m := r.protocolsMessage(c.gen)
		if m.BaseURL != c.baseURL || m.Homeserver != c.homesrv || len(m.Protocols) != 1 {
			t.Errorf("%s (server name %v): %+v", c.gen, c.serverName, m)
		}
	}
}

func TestScriptValidate(t *testing.T) {
	for _, s := range []Script{
		{FailAt: StepConsent},
		{FailReason: "x"},
		{TamperAt: StepConsent},
		{ReplayAt: StepConsent},
		{TamperAt: StepSuccess},
		{ReplayAt: StepSuccess},
		{SilentAt: StepSuccess},
		{SilentAt: "nowhere"},
		{Delay: -time.Second},
	} {
		if s.Validate() == nil {
			t.Errorf("%+v validated", s)
		}
	}
	for _, s := range []Script{{ReplayAt: StepSecrets}, {FailAt: StepSuccess, FailReason: "user_cancelled"}, {UnexpectedAt: StepSuccess}} {
		if err := s.Validate(); err != nil {
			t.Errorf("%+v: %v", s, err)
		}
	}
	if _, err := ParseStep("secrets"); err != nil {
		t.Error(err)
	}
}

func TestFlipLastBit(t *testing.T) {
	for _, in := range []string{"AAAA", "AAA=", "QUJD", "not base64!", ""} {
		if out := flipLastBit(in); out == in {
			t.Errorf("flipLastBit(%q) unchanged", in)
		}
	}
}

func securechannelCode(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestKeysQueryTroubleIsNotAMismatch: a 500 from /keys/query while the new
// device checks the secrets is retried; a server that keeps failing gives
// the secrets_unverified warning, not secrets_mismatch.
func TestKeysQueryTroubleIsNotAMismatch(t *testing.T) {
	for _, c := range []struct {
		count       int
		verified    bool
		wantWarning string
	}{{1, true, ""}, {100, false, "secrets_unverified"}} {
		t.Run(fmt.Sprint(c.count), func(t *testing.T) {
			t.Parallel()
			srv := startDevServer(t, devserver.Config{})
			if err := srv.InjectFault(devserver.Fault{PathPrefix: "/_matrix/client/v3/keys/query", Count: c.count, Status: 500}); err != nil {
				t.Fatal(err)
			}
			p := pair(t, srv, pairOptions{gen: vocab.MSC4388})
			if p.flowErr != nil || p.phoneErr != nil {
				t.Fatalf("flow: %v; phone: %v", p.flowErr, p.phoneErr)
			}
			if p.flowRes.Verified != c.verified {
				t.Fatalf("verified = %v, want %v", p.flowRes.Verified, c.verified)
			}
			var warnings []string
			for _, ev := range p.events {
				if w, ok := ev.(login.Warning); ok {
					warnings = append(warnings, w.Code)
				}
			}
			if (c.wantWarning == "" && len(warnings) > 0) || (c.wantWarning != "" && (len(warnings) != 1 || warnings[0] != c.wantWarning)) {
				t.Fatalf("warnings %v, want %q", warnings, c.wantWarning)
			}
		})
	}
}
