package cli

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/internal/devserver/devservertest"
	"github.com/qrlogin/qrlogin/internal/phone"
	"github.com/qrlogin/qrlogin/protocol/msc4108"
	"github.com/qrlogin/qrlogin/protocol/qrcode"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

func TestParseNewDeviceLine(t *testing.T) {
	l, err := parseNewDeviceLine(strings.Fields("QUJD approve declined device-id=ABCDEFGHIJ protocol=x tamper=success silent=protocol delay=1s"))
	if err != nil {
		t.Fatal(err)
	}
	want := phone.NewDeviceScript{AnswerDeclined: true, Protocol: "x", TamperAt: phone.StepSuccess, SilentAt: phone.StepProtocol, Delay: time.Second}
	if string(l.qr) != "ABC" || !l.approve || l.deviceID != "ABCDEFGHIJ" || l.script != want {
		t.Fatalf("got %+v", l)
	}
	l, err = parseNewDeviceLine(strings.Fields("QUJD deny skip-token"))
	if err == nil {
		t.Fatalf("deny with skip-token accepted: %+v", l)
	}
	if l, err = parseNewDeviceLine(strings.Fields("QUJD fail=success:user_cancelled unexpected=protocol existing-device")); err != nil ||
		l.script.FailAt != phone.StepSuccess || l.script.FailReason != "user_cancelled" || l.script.UnexpectedAt != phone.StepProtocol || !l.existingDevice {
		t.Fatalf("got %+v, %v", l, err)
	}
	for _, bad := range []string{"", "!!!", "QUJD fail=success", "QUJD tamper=consent", "QUJD bogus", "QUJD delay=soon",
		"QUJD approve deny", "QUJD device-id=", "QUJD protocol=", "QUJD device-id=ABCDEFGHIJ existing-device"} {
		if _, err := parseNewDeviceLine(strings.Fields(bad)); err == nil {
			t.Errorf("parseNewDeviceLine(%q) accepted", bad)
		}
	}
}

// FuzzParseNewDeviceLine: any line gives a valid script or an error.
func FuzzParseNewDeviceLine(f *testing.F) {
	for _, seed := range []string{"QUJD", "QUJD approve", "QUJD fail=protocol:user_cancelled delay=1s", "QUJD tamper=", "=", "QUJD fail=:"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		l, err := parseNewDeviceLine(strings.Fields(line))
		if err == nil && l.script.Validate() != nil {
			t.Fatalf("parseNewDeviceLine(%q) returned an invalid script", line)
		}
	})
}

// TestDevServerNewDevice feeds "new-device BASE64 approve" to the scripted
// phone's stdin and plays a minimal existing device (rendezvous, secure
// channel and QR code from the protocol packages) against the JSON lines
// it prints, in both generations.
func TestDevServerNewDevice(t *testing.T) {
	for _, gen := range []vocab.Generation{vocab.MSC4388, vocab.MSC4108v2024} {
		t.Run(string(gen), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			srv := devservertest.Start(t, devserver.Config{PollInterval: time.Second})

			poll := rendezvous.PollConfig{Reply: 50 * time.Millisecond, Human: 100 * time.Millisecond}
			var sess rendezvous.Session
			var bind securechannel.Binding
			p := qrcode.Payload{Generation: gen, Intent: qrcode.IntentExistingDevice}
			if gen == vocab.MSC4388 {
				c, err := rendezvous.NewClient(rendezvous.ClientConfig{BaseURL: srv.URL(), Poll: poll})
				if err != nil {
					t.Fatal(err)
				}
				s, err := c.Create(ctx)
				if err != nil {
					t.Fatal(err)
				}
				sess, p.RendezvousID, p.BaseURL = s, s.ID(), s.BaseURL()
				bind = securechannel.Binding{BaseURL: s.BaseURL(), RendezvousID: s.ID()}
			} else {
				c, err := rendezvous.NewETagClient(rendezvous.ETagConfig{HomeserverURL: srv.URL(), Poll: poll})
				if err != nil {
					t.Fatal(err)
				}
				s, err := c.Create(ctx)
				if err != nil {
					t.Fatal(err)
				}
				sess, p.RendezvousURL, p.ServerName = s, s.URL(), strings.TrimPrefix(srv.URL(), "http://")
			}
			g, err := securechannel.NewGenerator(gen, vocab.VariantReference)
			if err != nil {
				t.Fatal(err)
			}
			copy(p.PublicKey[:], g.PublicKey())
			qr, err := p.Encode()
			if err != nil {
				t.Fatal(err)
			}

			stdinR, stdinW := io.Pipe()
			stdoutR, stdoutW := io.Pipe()
			var stderr lockedBuffer
			phoneDone := make(chan error, 1)
			go func() {
				phoneDone <- runDevServerPhone(ctx, srv, Stdio{In: stdinR, Out: stdoutW, Err: &stderr})
				stdoutW.Close()
			}()
			lines := make(chan map[string]any, 8)
			go func() {
				defer close(lines)
				sc := bufio.NewScanner(stdoutR)
				for sc.Scan() {
					var m map[string]any
					if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
						t.Errorf("not a JSON line: %q", sc.Text())
						continue
					}
					lines <- m
				}
			}()
			next := func(event string) map[string]any {
				t.Helper()
				select {
				case m, ok := <-lines:
					if !ok || m["event"] != event {
						t.Fatalf("line %v, want event %s; stderr:\n%s", m, event, stderr.String())
					}
					return m
				case <-ctx.Done():
					t.Fatalf("no %s line; stderr:\n%s", event, stderr.String())
				}
				return nil
			}
			if _, err := io.WriteString(stdinW, "new-device "+base64.StdEncoding.EncodeToString(qr)+" approve\n"); err != nil {
				t.Fatal(err)
			}

			ch, err := g.Accept(ctx, sess, bind)
			if err != nil {
				t.Fatal(err)
			}
			defer ch.Close()
			code := next("check_code")["check_code"].(string)
			raw, err := ch.Receive(ctx, vocab.PaceReply)
			if err != nil {
				t.Fatal(err)
			}
			if err := ch.Confirm(code); err != nil {
				t.Fatal(err)
			}
			var proto msc4108.Protocol
			if err := json.Unmarshal(raw, &proto); err != nil || proto.Type != msc4108.TypeProtocol {
				t.Fatalf("first message %s", raw)
			}
			if sent := next("protocol_sent"); sent["device_id"] != proto.DeviceID || sent["user_code"] == "" || sent["verification_uri"] != srv.ConsentURL() {
				t.Fatalf("protocol_sent %v for %s", sent, raw)
			}
			send := func(v any) {
				b, _ := json.Marshal(v)
				if err := ch.Send(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
			send(msc4108.Simple{Type: msc4108.TypeProtocolAccepted})
			raw, err = ch.Receive(ctx, vocab.PaceHuman)
			if typ, _ := msc4108.TypeOf(raw); err != nil || typ != msc4108.TypeSuccess {
				t.Fatalf("after protocol_accepted: %s, %v", raw, err)
			}
			acct, err := srv.AccountSecrets()
			if err != nil {
				t.Fatal(err)
			}
			send(msc4108.Secrets{Type: msc4108.TypeSecrets, CrossSigning: msc4108.CrossSigningSecret{
				MasterKey: acct.MasterKey.Reveal(), SelfSigningKey: acct.SelfSigningKey.Reveal(), UserSigningKey: acct.UserSigningKey.Reveal()}})

			res := next("result")
			secrets, _ := res["secrets"].(map[string]any)
			if res["ok"] != true || res["device_id"] != proto.DeviceID || res["user_id"] != srv.UserID() || res["generation"] != string(gen) ||
				secrets["master_key"] != true || secrets["self_signing_key"] != true || secrets["user_signing_key"] != true ||
				secrets["backup"] != false || secrets["verified"] != true {
				t.Fatalf("result %v", res)
			}
			stdinW.Close() // EOF: the phone loop returns, the server keeps serving
			if err := <-phoneDone; err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(stderr.String(), "check code "+code) {
				t.Errorf("stderr %q", stderr.String())
			}
		})
	}
}

// TestDevServerNewDeviceRefusal: the result line carries the existing
// device's failure reason (here: the QR code is from a new device, so the
// run ends before any channel, with ok false and the error).
func TestDevServerNewDeviceRefusal(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv := devservertest.Start(t, devserver.Config{})
	qr, err := qrcode.Payload{Generation: vocab.MSC4388, Intent: qrcode.IntentNewDevice, RendezvousID: "x", BaseURL: srv.URL()}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr lockedBuffer
	in := strings.NewReader("new-device " + base64.StdEncoding.EncodeToString(qr) + "\nnew-device QUJD bogus\n")
	if err := runDevServerPhone(ctx, srv, Stdio{In: in, Out: &stdout, Err: &stderr}); err != nil {
		t.Fatal(err)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(stdout.String()), &res); err != nil || res["event"] != "result" || res["ok"] != false ||
		!strings.Contains(res["error"].(string), "not from a signed-in device") {
		t.Fatalf("stdout %q (%v)", stdout.String(), err)
	}
	if !strings.Contains(stderr.String(), `unknown word "bogus"`) {
		t.Fatalf("stderr %q", stderr.String())
	}
}
