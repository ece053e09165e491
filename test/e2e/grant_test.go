package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/app/accounts"
	"github.com/qrlogin/qrlogin/internal/devserver"
)

// These sign another device in with the real binary, all out of process:
// `qrlogin dev-server` is the homeserver, its scripted phone signs this
// computer in first (`qrlogin login --headless --json`), then `qrlogin
// grant --headless --json` shows a QR code that the dev-server's scripted
// new device scans (its stdin line "new-device BASE64 [word...]", JSON
// lines on its stdout). The person at this computer types the check code
// the new device shows and approves it on the dev homeserver's consent
// page over HTTP, as the browser would.

// devServerProcess is one running `qrlogin dev-server`.
type devServerProcess struct {
	t      *testing.T
	base   string // the homeserver's base URL
	userID string // its test account
	stdin  io.WriteCloser
	stderr syncBuffer
	lines  chan event // the scripted new device's JSON lines

	mu   sync.Mutex
	seen []event
	bad  []string // stdout lines that are not JSON objects
}

// startDevServer runs `qrlogin dev-server` on a free loopback port with a
// 1 s device-code poll interval, until the test ends.
func startDevServer(t *testing.T) *devServerProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, qrloginBinary(t), "dev-server", "--listen", "127.0.0.1:0", "--interval", "1")
	cmd.Env = commandEnv()
	d := &devServerProcess{t: t, lines: make(chan event, 16)}
	cmd.Stderr = &d.stderr
	var err error
	if d.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		d.mu.Lock()
		defer d.mu.Unlock()
		if len(d.bad) > 0 {
			t.Errorf("the dev-server's stdout carried non-JSON lines: %q", d.bad)
		}
	})
	go func() {
		defer close(d.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var e event
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.name() == "" {
				d.mu.Lock()
				d.bad = append(d.bad, sc.Text())
				d.mu.Unlock()
				continue
			}
			d.lines <- e
		}
	}()
	d.base = waitFor(t, &d.stderr, regexp.MustCompile(`homeserver (http://127\.0\.0\.1:\d+)\n`))
	d.userID = waitFor(t, &d.stderr, regexp.MustCompile(`test account (@\S+)\n`))
	return d
}

// send writes one line to the dev-server's scripted phone.
func (d *devServerProcess) send(words ...string) {
	d.t.Helper()
	if _, err := io.WriteString(d.stdin, strings.Join(words, " ")+"\n"); err != nil {
		d.t.Fatalf("writing to the dev-server: %v", err)
	}
}

// await returns the scripted new device's first line named name, waiting
// for it up to 20 s. The new device's "result" ends its run: waiting for
// anything after it fails at once.
func (d *devServerProcess) await(name string) event {
	d.t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		d.mu.Lock()
		for _, e := range d.seen {
			if e.name() == name {
				d.mu.Unlock()
				return e
			}
			if e.name() == "result" {
				d.mu.Unlock()
				d.t.Fatalf("the new device ended before %s: %v\ndev-server stderr:\n%s", name, e, d.stderr.String())
			}
		}
		d.mu.Unlock()
		select {
		case e, ok := <-d.lines:
			if !ok {
				d.t.Fatalf("the dev-server ended before the new device's %s\n%s", name, d.stderr.String())
			}
			d.mu.Lock()
			d.seen = append(d.seen, e)
			d.mu.Unlock()
		case <-timeout:
			d.t.Fatalf("no %s from the new device within 20 s\ndev-server stderr:\n%s", name, d.stderr.String())
		}
	}
}

// signInDesktop signs this computer in to the dev-server's account with
// `qrlogin login --headless --json` and the dev-server's scripted phone
// (phoneWords script it: "wrong-secrets" leaves the account unverified
// here), and signs it out again when the test ends.
func signInDesktop(t *testing.T, d *devServerProcess, env []string, verified bool, phoneWords ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := startLogin(t, ctx, qrloginBinary(t), env, "--homeserver", d.base)
	defer p.stdin.Close()
	var last event
	for e := range p.events {
		last = e
		switch e.name() {
		case "qr":
			d.send(append([]string{e.str("data")}, phoneWords...)...)
		case "check_code_needed":
			code := waitFor(t, &d.stderr, regexp.MustCompile(`check code: (\d\d)\n`))
			if _, err := io.WriteString(p.stdin, code+"\n"); err != nil {
				t.Fatal(err)
			}
		}
	}
	<-p.exited
	if p.exit != 0 || last.name() != "done" || last["verified"] != verified {
		t.Fatalf("signing this computer in: exit %d, last event %v (want verified %v)\nstderr:\n%s\ndev-server stderr:\n%s",
			p.exit, last, verified, p.stderr.String(), d.stderr.String())
	}
	// The phone's line ends before the dev-server reads the new device's.
	waitFor(t, &d.stderr, regexp.MustCompile(`scripted phone: (signed in device) `))
	t.Cleanup(func() {
		if _, stderr, code := runCommand(t, env, "logout", "--account", d.userID); code != 0 {
			t.Errorf("qrlogin logout: exit %d\n%s", code, stderr)
		}
	})
}

// grantScenario is one `qrlogin grant` run with the scripted new device.
type grantScenario struct {
	gen       string   // --protocol
	words     []string // the new device's script (dev-server's new-device words)
	wrongCode bool     // type a check code that differs from the new device's
	decision  string   // on the consent page: "approve", "deny" or "" (nothing)
}

// grantOutcome is what one grant run produced.
type grantOutcome struct {
	events []event
	exit   int
	stdout string
	stderr string
	// device is the scripted new device's "result" line.
	device event
}

func (o *grantOutcome) names() []string {
	var n []string
	for _, e := range o.events {
		n = append(n, e.name())
	}
	return n
}

func (o *grantOutcome) find(name string) (event, bool) {
	for _, e := range o.events {
		if e.name() == name {
			return e, true
		}
	}
	return nil, false
}

func (o *grantOutcome) last() event {
	if len(o.events) == 0 {
		return event{}
	}
	return o.events[len(o.events)-1]
}

func (o *grantOutcome) String() string {
	return fmt.Sprintf("exit %d, events %v, last %v, new device %v\nstderr:\n%s", o.exit, o.names(), o.last(), o.device, o.stderr)
}

// grant runs `qrlogin grant --headless --json --account USER` for the
// dev-server's account and plays the rest: the new device scans the first
// QR code, the check code it shows is typed, and the page the grant names
// gets sc.decision.
func grant(t *testing.T, d *devServerProcess, env []string, sc grantScenario) *grantOutcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	args := []string{"--account", d.userID}
	if sc.gen != "" {
		args = append(args, "--protocol", sc.gen)
	}
	p := startHeadless(t, ctx, qrloginBinary(t), env, "grant", args...)
	defer p.stdin.Close()
	o := &grantOutcome{}
	scanned := false
	// The timeline is printed only when the test fails.
	started := time.Now()
	var timeline strings.Builder
	note := func(format string, args ...any) {
		fmt.Fprintf(&timeline, "%6.2fs "+format+"\n", append([]any{time.Since(started).Seconds()}, args...)...)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("timeline of the grant:\n%s\ndev-server stderr:\n%s", timeline.String(), d.stderr.String())
		}
	})
	for e := range p.events {
		note("%v", e)
		o.events = append(o.events, e)
		switch e.name() {
		case "qr":
			if !scanned {
				scanned = true
				d.send(append([]string{"new-device", e.str("data")}, sc.words...)...)
			}
		case "check_code_needed":
			code := d.await("check_code").str("check_code")
			if sc.wrongCode {
				code = otherCode(code)
			}
			if _, err := io.WriteString(p.stdin, code+"\n"); err != nil {
				t.Errorf("typing the check code: %v", err)
			}
		case "verification_uri":
			if sc.decision == "" {
				continue
			}
			// The person reads the user code off the new device's screen.
			userCode := d.await("protocol_sent").str("user_code")
			if err := submitConsent(ctx, e.str("uri"), userCode, sc.decision); err != nil {
				t.Errorf("the consent page: %v", err)
			}
		}
	}
	<-p.exited
	o.exit = p.exit
	note("exit %d", p.exit)
	o.stdout, o.stderr = p.stdout.String(), p.stderr.String()
	select {
	case l := <-p.badLine:
		t.Errorf("the grant's stdout carried a non-JSON line: %q", l)
	default:
	}
	if scanned {
		o.device = d.await("result")
		note("new device: %v", o.device)
	}
	return o
}

// submitConsent does what the person does in the browser: load the page
// at pageURI, type userCode into its form and press Approve or Deny
// (decision devserver.ConsentApprove or ConsentDeny).
func submitConsent(ctx context.Context, pageURI, userCode, decision string) error {
	return devserver.SubmitConsent(ctx, &http.Client{Timeout: 10 * time.Second}, pageURI, userCode, decision)
}

// storedAccount reads userID's account from the keyring, as the binary
// stored it.
func storedAccount(t *testing.T, userID string) *accounts.Account {
	t.Helper()
	store, err := accounts.Open()
	if err != nil {
		t.Fatal(err)
	}
	a, err := store.Load(userID)
	if err != nil {
		t.Fatalf("loading %s from the keyring: %v", userID, err)
	}
	return a
}

// storedSecrets returns every secret the keyring holds for userID: what
// the grant could leak.
func storedSecrets(t *testing.T, userID string) []string {
	t.Helper()
	a := storedAccount(t, userID)
	var out []string
	for _, s := range []accounts.Secret{a.AccessToken, a.RefreshToken, a.OlmPickle, a.OlmPickleKey,
		a.MasterKey, a.SelfSigningKey, a.UserSigningKey, a.BackupKey} {
		if v := s.Reveal(); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// expectNothingSecret checks that no stored secret and no token appears in
// the grant's output.
func expectNothingSecret(t *testing.T, secrets []string, o *grantOutcome) {
	t.Helper()
	for _, out := range []string{o.stdout, o.stderr} {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Error("the grant's output contains a secret of the account")
			}
		}
		if m := tokenPattern.FindString(out); m != "" {
			t.Errorf("the grant's output contains a token (%s…)", m[:6])
		}
	}
}

// grantSetUp starts the dev-server and signs this computer in to its
// account (verified, or not with "wrong-secrets"), with settings of its
// own.
func grantSetUp(t *testing.T, verified bool, phoneWords ...string) (*devServerProcess, []string) {
	t.Helper()
	d := startDevServer(t)
	env := commandEnv("XDG_CONFIG_HOME=" + privateConfigDir(t))
	signInDesktop(t, d, env, verified, phoneWords...)
	return d, env
}

// expectGrantError checks that the grant ended with exit 1 and an error
// event with code.
func expectGrantError(t *testing.T, o *grantOutcome, code string) {
	t.Helper()
	last := o.last()
	if o.exit != 1 || last.name() != "error" || last.str("code") != code || last.str("message") == "" {
		t.Fatalf("want error %q with exit 1; got %s", code, o)
	}
}

// TestGrantSignsInNewDevice: this computer, signed in and verified, signs
// the scripted new device in, in both generations: the QR code, the check
// code, the consent page approved, the new device on the account, and the
// account's keys at the new device, which checks them against the keys
// the homeserver publishes. No secret reaches the output.
func TestGrantSignsInNewDevice(t *testing.T) {
	eachGeneration(t, func(t *testing.T, gen string) {
		d, env := grantSetUp(t, true)
		o := grant(t, d, env, grantScenario{gen: gen, decision: "approve"})
		if o.exit != 0 {
			t.Fatalf("grant failed: %s", o)
		}
		want := []string{"qr", "check_code_needed", "secure_channel_established", "verification_uri", "device_signed_in", "secrets_shared", "done"}
		if got := o.names(); !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
		if qr, _ := o.find("qr"); qr.str("protocol") != gen {
			t.Errorf("qr event %v, want protocol %s", qr, gen)
		}
		dev := o.device
		sent := d.await("protocol_sent")
		if v, _ := o.find("verification_uri"); v.str("uri") != sent.str("verification_uri") || v["opened"] != false {
			t.Errorf("verification_uri event %v; the new device proposed %v", v, sent)
		}
		if s, _ := o.find("secrets_shared"); s["cross_signing"] != true || s["backup"] != true {
			t.Errorf("secrets_shared event %v", s)
		}
		done := o.last()
		if done.str("user_id") != d.userID || done.str("device_id") != dev.str("device_id") || done["secrets_sent"] != true {
			t.Errorf("done event %v; the new device is %v", done, dev)
		}
		if ds, _ := o.find("device_signed_in"); ds.str("device_id") != dev.str("device_id") {
			t.Errorf("device_signed_in event %v", ds)
		}
		secrets, _ := dev["secrets"].(map[string]any)
		if dev["ok"] != true || dev.str("generation") != gen || dev.str("user_id") != d.userID || dev["signed_in"] != true ||
			secrets["master_key"] != true || secrets["self_signing_key"] != true || secrets["user_signing_key"] != true ||
			secrets["backup"] != true || secrets["verified"] != true {
			t.Fatalf("the new device's result %v", dev)
		}
		expectNothingSecret(t, storedSecrets(t, d.userID), o)
	})
}

// TestGrantUnverifiedAccount: an account this computer holds unverified
// (the phone that signed it in shared keys that do not belong to the
// account, so none were kept) signs the new device in but sends it no
// keys, and warns secrets_not_shared.
func TestGrantUnverifiedAccount(t *testing.T) {
	eachGeneration(t, func(t *testing.T, gen string) {
		d, env := grantSetUp(t, false, "wrong-secrets")
		if a := storedAccount(t, d.userID); a.Verified || a.MasterKey != "" || a.BackupKey != "" {
			t.Fatalf("stored %s verified %v, with keys %v; want it unverified without keys", d.userID, a.Verified, a.MasterKey != "")
		}
		o := grant(t, d, env, grantScenario{gen: gen, decision: "approve"})
		if o.exit != 0 {
			t.Fatalf("grant failed: %s", o)
		}
		want := []string{"qr", "check_code_needed", "secure_channel_established", "verification_uri", "device_signed_in", "warning", "done"}
		if got := o.names(); !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
		if w, _ := o.find("warning"); w.str("code") != "secrets_not_shared" || w.str("message") == "" {
			t.Errorf("warning event %v", w)
		}
		if done := o.last(); done["secrets_sent"] != false || done.str("device_id") != o.device.str("device_id") {
			t.Errorf("done event %v", done)
		}
		if dev := o.device; dev["signed_in"] != true || dev["success_sent"] != true || dev["secrets"] != nil {
			t.Errorf("the new device's result %v, want signed in without secrets", dev)
		}
		expectNothingSecret(t, storedSecrets(t, d.userID), o)
	})
}

// TestGrantDenied: denying the new device on the consent page ends the
// grant with exit 1; the new device reports the denial with
// m.login.failure user_cancelled (as matrix-js-sdk does) or
// m.login.declined (as matrix-rust-sdk does).
func TestGrantDenied(t *testing.T) {
	requireSession(t)
	t.Parallel()
	for _, tc := range []struct {
		gen, code string
		words     []string
	}{
		{gen4388, "user_cancelled", nil},
		{gen2024, "user_cancelled", nil},
		{gen4388, "declined", []string{"declined"}},
		{gen2024, "declined", []string{"declined"}},
	} {
		t.Run(tc.gen+"/"+tc.code, func(t *testing.T) {
			t.Parallel()
			d, env := grantSetUp(t, true)
			o := grant(t, d, env, grantScenario{gen: tc.gen, words: tc.words, decision: "deny"})
			expectGrantError(t, o, tc.code)
			if _, ok := o.find("device_signed_in"); ok {
				t.Error("device_signed_in after a denial")
			}
			if dev := o.device; dev["denied"] != true || dev["signed_in"] != false {
				t.Errorf("the new device's result %v", dev)
			}
			expectNothingSecret(t, storedSecrets(t, d.userID), o)
		})
	}
}

// TestGrantWrongCheckCode: a mistyped check code ends the grant with
// check_code_mismatch before anything is proposed; the new device is never
// accepted.
func TestGrantWrongCheckCode(t *testing.T) {
	eachGeneration(t, func(t *testing.T, gen string) {
		d, env := grantSetUp(t, true)
		o := grant(t, d, env, grantScenario{gen: gen, wrongCode: true, decision: "approve"})
		expectGrantError(t, o, "check_code_mismatch")
		if _, ok := o.find("secure_channel_established"); ok {
			t.Error("secure_channel_established after a wrong check code")
		}
		if dev := o.device; dev["ok"] != false || dev["accepted"] != false || dev.str("failure_received") != "" {
			t.Errorf("the new device's result %v, want it never accepted and told nothing", dev)
		}
	})
}

// TestGrantDeviceAlreadyExists: a new device that asks for a device ID the
// account already has hears device_already_exists, and no page is named.
func TestGrantDeviceAlreadyExists(t *testing.T) {
	eachGeneration(t, func(t *testing.T, gen string) {
		d, env := grantSetUp(t, true)
		o := grant(t, d, env, grantScenario{gen: gen, words: []string{"existing-device"}, decision: "approve"})
		expectGrantError(t, o, "device_already_exists")
		if _, ok := o.find("verification_uri"); ok {
			t.Error("a consent page was named for a device that exists")
		}
		if dev := o.device; dev.str("failure_received") != "device_already_exists" || dev["accepted"] != false {
			t.Errorf("the new device's result %v", dev)
		}
	})
}
