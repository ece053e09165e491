package login_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/internal/phone"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/qrcode"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// These run one sign-in of the flow against the dev homeserver with the
// scripted phone scanning its QR code, both in process on 127.0.0.1.

var generations = []vocab.Generation{vocab.MSC4388, vocab.MSC4108v2024}

// eachGeneration runs f as a parallel subtest per protocol generation.
func eachGeneration(t *testing.T, f func(t *testing.T, gen vocab.Generation)) {
	t.Helper()
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			t.Parallel()
			f(t, gen)
		})
	}
}

// signInSetup says how one sign-in runs.
type signInSetup struct {
	gen    vocab.Generation
	script phone.Script
	// account replaces what the phone knows of the account (nil: the dev
	// server itself), e.g. secrets it cached before the server changed.
	account phone.Homeserver
	// flowHTTP and phoneHTTP send each side's requests (nil: defaults).
	flowHTTP, phoneHTTP *http.Client
	// outOfTurn is handed to the phone (phone.Config.OutOfTurnAfter).
	outOfTurn <-chan struct{}
	// onEvent sees each event on the flow's goroutine, before it is kept.
	onEvent func(login.Event)
}

// signInOutcome is what both sides ended with.
type signInOutcome struct {
	res      *login.Result
	err      error
	events   []login.Event
	qr       qrcode.Payload
	phoneRes *phone.Result
	phoneErr error
}

func (o *signInOutcome) warnings() []string {
	var codes []string
	for _, ev := range o.events {
		if w, ok := ev.(login.Warning); ok {
			codes = append(codes, w.Code)
		}
	}
	return codes
}

func (o *signInOutcome) secretsEvent() (login.Secrets, bool) {
	for _, ev := range o.events {
		if s, ok := ev.(login.Secrets); ok {
			return s, true
		}
	}
	return login.Secrets{}, false
}

// signInWithPhone runs the flow to its end with the scripted phone typing
// nothing wrong, and waits for the phone too.
func signInWithPhone(t *testing.T, srv *devserver.Server, s signInSetup) *signInOutcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	o := &signInOutcome{}
	qrs := make(chan []byte, 4)
	codes := make(chan string, 1)
	var flow *login.Flow
	flow = login.New(login.Config{
		Homeserver: srv.URL(), Preference: string(s.gen), HTTP: s.flowHTTP,
		Poll: fast, FailureGrace: 500 * time.Millisecond,
	}, func(ev login.Event) {
		if s.onEvent != nil {
			s.onEvent(ev)
		}
		o.events = append(o.events, ev)
		switch e := ev.(type) {
		case login.QRReady:
			qrs <- e.Payload
		case login.CheckCodeNeeded:
			go func() {
				select {
				case code := <-codes:
					flow.SubmitCheckCode(code)
				case <-ctx.Done():
				}
			}()
		}
	})
	account := s.account
	if account == nil {
		account = srv
	}
	phoneDone := make(chan struct{})
	go func() {
		defer close(phoneDone)
		var raw []byte
		select {
		case raw = <-qrs:
		case <-ctx.Done():
			o.phoneErr = ctx.Err()
			return
		}
		var err error
		if o.qr, err = qrcode.Decode(raw); err != nil {
			o.phoneErr = err
			return
		}
		o.phoneRes, o.phoneErr = phone.Run(ctx, phone.Config{
			Homeserver: account, HTTP: s.phoneHTTP, Poll: fast, Script: s.script, OutOfTurnAfter: s.outOfTurn,
			OnCheckCode: func(c string) { codes <- c },
		}, raw)
	}()
	o.res, o.err = flow.Run(ctx)
	// The phone learns the end from the rendezvous within a few polls.
	select {
	case <-phoneDone:
	case <-time.After(15 * time.Second):
		cancel()
		<-phoneDone
	}
	return o
}

// expectUndone checks that a failed sign-in left nothing behind: no
// result, the new device gone from the account (its tokens revoked), and
// the rendezvous session deleted.
func expectUndone(t *testing.T, srv *devserver.Server, o *signInOutcome) {
	t.Helper()
	if o.res != nil {
		t.Errorf("Run returned a result with its error: %+v", o.res)
	}
	if o.phoneRes == nil || o.phoneRes.NewDeviceID == "" {
		t.Fatalf("the phone never heard of the new device: %+v, %v", o.phoneRes, o.phoneErr)
	}
	if d, ok := srv.Device(o.phoneRes.NewDeviceID); ok {
		t.Errorf("device %s is still on the account after the failed sign-in (tokens not revoked)", d.DeviceID)
	}
	if status := sessionStatus(t, o.qr); status != http.StatusNotFound {
		t.Errorf("the rendezvous session answers HTTP %d after the sign-in ended, want 404 (deleted)", status)
	}
}

// sessionStatus GETs the rendezvous session a QR code names.
func sessionStatus(t *testing.T, qr qrcode.Payload) int {
	t.Helper()
	var u string
	switch qr.Generation {
	case vocab.MSC4388:
		u = qr.BaseURL + string(rendezvous.PathUnstable) + "/" + url.PathEscape(qr.RendezvousID)
	default:
		u = qr.RendezvousURL
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestTamperedOrReplayedSecretsEndTheSignIn: an m.login.secrets that does
// not open (one bit changed on the wire, or an earlier ciphertext played
// back) is an attack on the channel, not a phone that was merely slow: the
// sign-in ends with the decrypt error, its tokens are revoked, nothing is
// returned to store, and the rendezvous is deleted.
func TestTamperedOrReplayedSecretsEndTheSignIn(t *testing.T) {
	for _, attack := range []struct {
		name   string
		script phone.Script
	}{
		{"tampered", phone.Script{TamperAt: phone.StepSecrets}},
		{"replayed", phone.Script{ReplayAt: phone.StepSecrets}},
	} {
		t.Run(attack.name, func(t *testing.T) {
			t.Parallel()
			eachGeneration(t, func(t *testing.T, gen vocab.Generation) {
				srv := devServer(t)
				o := signInWithPhone(t, srv, signInSetup{gen: gen, script: attack.script})
				if !errors.Is(o.err, securechannel.ErrDecrypt) {
					t.Fatalf("Run ended with %v (result %+v, warnings %v), want the decrypt error", o.err, o.res, o.warnings())
				}
				if o.phoneErr != nil {
					t.Errorf("phone: %v", o.phoneErr)
				}
				expectUndone(t, srv, o)
			})
		})
	}
}

// cachedAccount is a phone that kept the account's secrets from before the
// server changed them.
type cachedAccount struct {
	*devserver.Server
	secrets devserver.AccountSecrets
}

func (c cachedAccount) AccountSecrets() (devserver.AccountSecrets, error) { return c.secrets, nil }

// TestBackupMismatchKeepsCrossSigning: the backup key is checked apart
// from the cross-signing keys. A backup that does not match the server's
// (an older backup_version, no backup there, or an answer that is no
// backup at all) is dropped with a warning; the cross-signing keys, which
// match, are kept and the device is cross-signed with them.
func TestBackupMismatchKeepsCrossSigning(t *testing.T) {
	roomKeys := "/_matrix/client/v3/room_keys/version"
	for _, c := range []struct {
		name    string
		prepare func(t *testing.T, srv *devserver.Server) phone.Homeserver
		warning string
	}{
		{"older backup version", func(t *testing.T, srv *devserver.Server) phone.Homeserver {
			old, err := srv.AccountSecrets()
			if err != nil {
				t.Fatal(err)
			}
			if err := srv.ReplaceBackup(); err != nil {
				t.Fatal(err)
			}
			return cachedAccount{srv, old}
		}, "backup_mismatch"},
		{"no backup on the server", func(t *testing.T, srv *devserver.Server) phone.Homeserver {
			old, err := srv.AccountSecrets()
			if err != nil {
				t.Fatal(err)
			}
			if err := srv.DeleteBackup(); err != nil {
				t.Fatal(err)
			}
			return cachedAccount{srv, old}
		}, "backup_mismatch"},
		{"room_keys refused", func(t *testing.T, srv *devserver.Server) phone.Homeserver {
			if err := srv.InjectFault(devserver.Fault{PathPrefix: roomKeys, Count: 1, Status: http.StatusForbidden}); err != nil {
				t.Fatal(err)
			}
			return nil
		}, "backup_mismatch"},
		{"room_keys keeps failing", func(t *testing.T, srv *devserver.Server) phone.Homeserver {
			if err := srv.InjectFault(devserver.Fault{PathPrefix: roomKeys, Count: 100, Status: http.StatusInternalServerError}); err != nil {
				t.Fatal(err)
			}
			return nil
		}, "backup_unverified"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			eachGeneration(t, func(t *testing.T, gen vocab.Generation) {
				srv := devServer(t)
				account := c.prepare(t, srv)
				o := signInWithPhone(t, srv, signInSetup{gen: gen, account: account})
				if o.err != nil || o.phoneErr != nil {
					t.Fatalf("flow: %v; phone: %v", o.err, o.phoneErr)
				}
				if !o.res.CrossSigning || o.res.Backup || !o.res.Verified {
					t.Errorf("cross-signing %v, backup %v, verified %v; want the cross-signing keys kept and verified, the backup dropped",
						o.res.CrossSigning, o.res.Backup, o.res.Verified)
				}
				master, selfSigning, userSigning, backupKey, backupVersion := o.res.Secrets.Export()
				if master == "" || selfSigning == "" || userSigning == "" || backupKey != "" || backupVersion != "" {
					t.Errorf("kept secrets: cross-signing %v, backup key %v, version %q", master != "", backupKey != "", backupVersion)
				}
				if w := o.warnings(); len(w) != 1 || w[0] != c.warning {
					t.Errorf("warnings %v, want [%s]", w, c.warning)
				}
				if s, ok := o.secretsEvent(); !ok || !s.CrossSigning || s.Backup {
					t.Errorf("secrets event %+v (found %v)", s, ok)
				}
				if d, ok := srv.Device(o.res.DeviceID); !ok || !d.CrossSigned {
					t.Errorf("device on the server: found %v, cross-signed %v; want it cross-signed", ok, d.CrossSigned)
				}
			})
		})
	}
}

// TestWhoamiNamesAnotherDevice: a token that whoami says belongs to another
// device than the one this sign-in asked for (or to none) is not kept: the
// sign-in ends with WrongDeviceError, the phone hears device_not_found, the
// tokens are revoked and the rendezvous deleted.
func TestWhoamiNamesAnotherDevice(t *testing.T) {
	for _, c := range []struct{ name, deviceID string }{
		{"another device", "SOMEONEELSE"},
		{"no device", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			eachGeneration(t, func(t *testing.T, gen vocab.Generation) {
				srv := devServer(t)
				if err := srv.InjectWhoamiFault(devserver.WhoamiFault{DeviceID: c.deviceID, Count: 1}); err != nil {
					t.Fatal(err)
				}
				o := signInWithPhone(t, srv, signInSetup{gen: gen})
				var wrong *login.WrongDeviceError
				if !errors.As(o.err, &wrong) {
					t.Fatalf("Run ended with %v (result %+v), want WrongDeviceError", o.err, o.res)
				}
				if o.phoneRes == nil || wrong.Want != o.phoneRes.NewDeviceID || wrong.Got != c.deviceID {
					t.Errorf("error %+v; the sign-in asked for %+v", wrong, o.phoneRes)
				}
				var pf *phone.PeerFailure
				if !errors.As(o.phoneErr, &pf) || pf.Reason != "device_not_found" {
					t.Errorf("the phone heard %v, want m.login.failure device_not_found", o.phoneErr)
				}
				expectUndone(t, srv, o)
			})
		})
	}
}

// watchingTransport shows a test each answer to one side's requests.
type watchingTransport struct {
	next       http.RoundTripper
	onResponse func(req *http.Request, status int)
}

func watchingClient(onResponse func(req *http.Request, status int)) *http.Client {
	return &http.Client{Transport: &watchingTransport{next: http.DefaultTransport, onResponse: onResponse}, Timeout: 30 * time.Second}
}

func (w *watchingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := w.next.RoundTrip(req)
	if err == nil {
		w.onResponse(req, resp.StatusCode)
	}
	return resp, err
}

// TestPhoneWritesFirstAfterApproval: the phone writes out of turn after
// the consent page, between the new device's token and its m.login.success,
// so that PUT meets a concurrent write (MSC4388 409, 2024 412). The new
// device reads and opens the phone's message: m.login.failure ends the
// sign-in with the phone's reason; anything else is an unexpected message.
// Either way the tokens are revoked and the rendezvous deleted.
func TestPhoneWritesFirstAfterApproval(t *testing.T) {
	for _, c := range []struct {
		name   string
		script phone.Script
		check  func(t *testing.T, o *signInOutcome)
	}{
		{"failure", phone.Script{FailAt: phone.StepSuccess, FailReason: "user_cancelled"}, func(t *testing.T, o *signInOutcome) {
			var pf *login.PhoneFailure
			if !errors.As(o.err, &pf) || pf.Reason != "user_cancelled" {
				t.Errorf("Run ended with %v, want the phone's user_cancelled", o.err)
			}
			var sf *phone.SentFailureError
			if !errors.As(o.phoneErr, &sf) {
				t.Errorf("phone: %v", o.phoneErr)
			}
		}},
		{"unexpected", phone.Script{UnexpectedAt: phone.StepSuccess}, func(t *testing.T, o *signInOutcome) {
			var ue *login.UnexpectedMessageError
			if !errors.As(o.err, &ue) {
				t.Errorf("Run ended with %v, want UnexpectedMessageError", o.err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			eachGeneration(t, func(t *testing.T, gen vocab.Generation) {
				srv := devServer(t)
				release := make(chan struct{})
				wrote := make(chan struct{})
				var once sync.Once
				phoneHTTP := watchingClient(func(req *http.Request, status int) {
					select {
					case <-release:
						if req.Method == http.MethodPut && status/100 == 2 {
							once.Do(func() { close(wrote) })
						}
					default:
					}
				})
				var conflicts atomic.Int32
				flowHTTP := watchingClient(func(req *http.Request, status int) {
					if req.Method == http.MethodPut && (status == http.StatusConflict || status == http.StatusPreconditionFailed) {
						conflicts.Add(1)
					}
				})
				o := signInWithPhone(t, srv, signInSetup{
					gen: gen, script: c.script, flowHTTP: flowHTTP, phoneHTTP: phoneHTTP, outOfTurn: release,
					onEvent: func(ev login.Event) {
						if _, ok := ev.(login.LoggedIn); !ok {
							return
						}
						// The flow's goroutine waits here, after its token
						// and before its m.login.success, until the phone's
						// out-of-turn write has landed.
						close(release)
						select {
						case <-wrote:
						case <-time.After(10 * time.Second):
							t.Error("the phone did not write out of turn")
						}
					},
				})
				c.check(t, o)
				if n := conflicts.Load(); n != 1 {
					t.Errorf("the new device met %d concurrent-write answers, want 1 (its m.login.success)", n)
				}
				if w := o.warnings(); len(w) != 0 {
					t.Errorf("warnings %v; the sign-in must end, not go on without secrets", w)
				}
				expectUndone(t, srv, o)
			})
		})
	}
}
