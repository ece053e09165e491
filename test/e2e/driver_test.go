package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/internal/devserver/devservertest"
	"github.com/qrlogin/qrlogin/internal/phone"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
)

const (
	gen4388 = "msc4388"
	gen2024 = "msc4108-2024"
)

var generations = []string{gen4388, gen2024}

// phonePoll: the phone answers at once, as the benchmarks assume
// (docs/build-notes.md "Benchmarks"); the desktop polls with its own
// defaults.
var phonePoll = rendezvous.PollConfig{Reply: 100 * time.Millisecond, Human: 250 * time.Millisecond}

// startServer runs a dev server on 127.0.0.1 with a 1 s device-grant
// interval (the benchmarks' setting, docs/build-notes.md "Benchmarks") and
// the given overrides.
func startServer(t *testing.T, cfg devserver.Config) *devserver.Server {
	t.Helper()
	if cfg.PollInterval == 0 {
		cfg.PollInterval = time.Second
	}
	return devservertest.Start(t, cfg)
}

// scenario is one sign-in attempt of the binary with the scripted phone.
type scenario struct {
	gen        string // --protocol
	script     phone.Script
	wrongCode  bool              // type a check code that differs from the phone's
	typeFirst  []string          // lines typed before the check code (mistypes)
	phoneOn    *devserver.Server // the server the phone is signed in to (default: the binary's)
	skipQRs    int               // let this many QR codes go unscanned first
	noPhone    bool              // never scan at all
	extraArgs  []string          // more login flags
	extraEnv   []string
	timeout    time.Duration // whole attempt (default 45 s)
	afterFirst func()        // called when the first QR code appears
}

// outcome is what one attempt produced.
type outcome struct {
	events   []event
	exit     int
	stdout   string
	stderr   string
	badLines []string
	phoneRes *phone.Result
	phoneErr error
	phoneRan bool
}

func (o *outcome) names() []string {
	var n []string
	for _, e := range o.events {
		n = append(n, e.name())
	}
	return n
}

func (o *outcome) last() event {
	if len(o.events) == 0 {
		return event{}
	}
	return o.events[len(o.events)-1]
}

func (o *outcome) find(name string) (event, bool) {
	for _, e := range o.events {
		if e.name() == name {
			return e, true
		}
	}
	return nil, false
}

func (o *outcome) String() string {
	return fmt.Sprintf("exit %d, events %v, last %v, phone %v\nstderr:\n%s", o.exit, o.names(), o.last(), o.phoneErr, o.stderr)
}

// login runs `qrlogin login --headless --json` against srv with the
// scripted phone scanning the QR code it prints.
func login(t *testing.T, srv *devserver.Server, sc scenario) *outcome {
	t.Helper()
	env := append([]string{"XDG_CONFIG_HOME=" + privateConfigDir(t)}, sc.extraEnv...)
	return loginWith(t, qrloginBinary(t), srv, sc, commandEnv(env...))
}

// loginWith is login with another program in place of the binary (a
// wrapper script) and a given environment.
func loginWith(t *testing.T, program string, srv *devserver.Server, sc scenario, env []string) *outcome {
	t.Helper()
	if sc.timeout == 0 {
		sc.timeout = 45 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), sc.timeout)
	defer cancel()
	args := []string{"--homeserver", srv.URL()}
	if sc.gen != "" {
		args = append(args, "--protocol", sc.gen)
	}
	p := startLogin(t, ctx, program, env, append(args, sc.extraArgs...)...)
	defer p.stdin.Close()

	out := &outcome{}
	phoneCtx, stopPhone := context.WithCancel(ctx)
	defer stopPhone()
	phoneDone := make(chan struct{})
	qrSeen := 0
	started := time.Now()
	// The timeline is printed only when the test fails (scripts/gotest
	// runs go test -v, which would print every t.Log).
	var timeline strings.Builder
	note := func(format string, args ...any) {
		fmt.Fprintf(&timeline, "%6.2fs ", time.Since(started).Seconds())
		fmt.Fprintf(&timeline, format+"\n", args...)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("timeline of the sign-in:\n%s", timeline.String())
		}
	})
	for e := range p.events {
		note("%v", e)
		out.events = append(out.events, e)
		if e.name() != "qr" {
			continue
		}
		qrSeen++
		if qrSeen == 1 && sc.afterFirst != nil {
			sc.afterFirst()
		}
		if sc.noPhone || out.phoneRan || qrSeen <= sc.skipQRs {
			continue
		}
		qr, err := base64.StdEncoding.DecodeString(e.str("data"))
		if err != nil {
			t.Errorf("qr data is not standard base64: %v", err)
			continue
		}
		out.phoneRan = true
		go func() {
			defer close(phoneDone)
			phoneHS := srv
			if sc.phoneOn != nil {
				phoneHS = sc.phoneOn
			}
			out.phoneRes, out.phoneErr = phone.Run(phoneCtx, phone.Config{
				Homeserver: phoneHS, Poll: phonePoll, Script: sc.script,
				OnCheckCode: func(code string) {
					if sc.wrongCode {
						code = otherCode(code)
					}
					for _, line := range sc.typeFirst {
						_, _ = io.WriteString(p.stdin, line+"\n")
					}
					_, _ = io.WriteString(p.stdin, code+"\n")
				},
			}, qr)
		}()
	}
	<-p.exited
	out.exit = p.exit
	note("exit %d", p.exit)
	if out.phoneRan {
		// The binary has ended: the phone learns it from the rendezvous
		// (a failure, or the session deleted) within a few polls.
		select {
		case <-phoneDone:
		case <-time.After(15 * time.Second):
			stopPhone()
			<-phoneDone
		}
		note("phone: %v", out.phoneErr)
	}
	out.stdout, out.stderr = p.stdout.String(), p.stderr.String()
	for {
		select {
		case l := <-p.badLine:
			out.badLines = append(out.badLines, l)
			continue
		default:
		}
		break
	}
	if len(out.badLines) > 0 {
		t.Errorf("stdout carried non-JSON lines: %q", out.badLines)
	}
	return out
}

// otherCode is a check code that differs from code.
func otherCode(code string) string {
	n, _ := strconv.Atoi(code)
	return fmt.Sprintf("%02d", (n+1)%100)
}

// expectError checks that the attempt ended with exit 1 and an error event
// with the given code, after the given events.
func expectError(t *testing.T, o *outcome, code string) {
	t.Helper()
	last := o.last()
	if o.exit != 1 || last.name() != "error" || last.str("code") != code {
		t.Fatalf("want error %q with exit 1; got %s", code, o)
	}
	if last.str("message") == "" {
		t.Errorf("error event without a message: %v", last)
	}
}

// expectPrefix checks the first events' names.
func expectPrefix(t *testing.T, o *outcome, names ...string) {
	t.Helper()
	got := o.names()
	if len(got) < len(names) || !slices.Equal(got[:len(names)], names) {
		t.Fatalf("events %v, want them to start with %v", got, names)
	}
}

// tokenPattern matches the dev server's access and refresh tokens.
var tokenPattern = regexp.MustCompile(`ma[tr]_[A-Za-z0-9]{8,}`)

// expectNoSecrets checks that none of the account's private keys and no
// token appears in the given output.
func expectNoSecrets(t *testing.T, srv *devserver.Server, what string, outputs ...string) {
	t.Helper()
	s, err := srv.AccountSecrets()
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range outputs {
		for _, secret := range []devserver.Secret{s.MasterKey, s.SelfSigningKey, s.UserSigningKey, s.BackupKey} {
			if v := secret.Reveal(); v != "" && strings.Contains(out, v) {
				t.Errorf("%s contains one of the account's private keys", what)
			}
		}
		if m := tokenPattern.FindString(out); m != "" {
			t.Errorf("%s contains a token (%s…)", what, m[:6])
		}
	}
}

// whoamiStatus asks the dev server who token belongs to.
func whoamiStatus(t *testing.T, srv *devserver.Server, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/_matrix/client/v3/account/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
