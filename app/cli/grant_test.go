package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/app/accounts"
	"github.com/qrlogin/qrlogin/app/explain"
	"github.com/qrlogin/qrlogin/app/signin"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/qrcode"
)

// runStdin is runWith with stdin.
func runStdin(fe FrontEnds, stdin string, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := Dispatch(context.Background(), args, Stdio{In: strings.NewReader(stdin), Out: &out, Err: &errOut}, fe)
	return code, out.String(), errOut.String()
}

// isolateConfig keeps the command's settings away from the user's own.
func isolateConfig(t *testing.T) {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
}

// scriptedGrant stands in for signin.StartGrant in the tests that need a
// grant to get somewhere: protocol/login's Grant.Run is not built on this
// branch (TestGrantHeadlessWithTheRealController runs the real one). It
// plays events, waits for the check code after CheckCodeNeeded, and ends
// the way end says.
type scriptedGrant struct {
	cfg    login.GrantConfig
	user   string
	codes  chan string
	cancel chan struct{}
	done   chan struct{}
	err    error
}

func (g *scriptedGrant) SubmitCheckCode(code string) bool { g.codes <- code; return true }
func (g *scriptedGrant) Cancel()                          { close(g.cancel) }
func (g *scriptedGrant) Wait() (*login.GrantResult, error) {
	<-g.done
	if g.err != nil {
		return nil, g.err
	}
	return &login.GrantResult{DeviceID: "NEWPHONE", SecretsSent: true}, nil
}

// withScriptedGrant makes the grant command play before, then (if code is
// not "") wait for the check code and play after.
func withScriptedGrant(t *testing.T, before, after []login.Event, end error) *scriptedGrant {
	t.Helper()
	g := &scriptedGrant{codes: make(chan string, 1), cancel: make(chan struct{}), done: make(chan struct{}), err: end}
	old := startGrant
	startGrant = func(_ context.Context, user string, cfg login.GrantConfig, _ signin.GrantStore, emit func(login.Event)) grantRun {
		g.cfg, g.user = cfg, user
		go func() {
			defer close(g.done)
			for _, ev := range before {
				emit(ev)
			}
			if len(after) > 0 {
				select {
				case <-g.codes:
				case <-g.cancel:
					g.err = login.ErrCancelled
					emit(login.Failed{Err: &signin.GrantError{UserID: user, Err: g.err}})
					return
				}
			}
			for _, ev := range after {
				emit(ev)
			}
			if end != nil {
				emit(login.Failed{Err: &signin.GrantError{UserID: user, Err: end}})
			} else {
				emit(signin.GrantDone{UserID: user, DeviceID: "NEWPHONE", SecretsSent: true})
			}
		}()
		return g
	}
	t.Cleanup(func() { startGrant = old })
	return g
}

func qrEvent() login.QRReady {
	return login.QRReady{Protocol: "msc4388", Payload: []byte("IO_ELEMENT_MSC4388\x03\x01test"), ExpiresAt: time.Now().Add(time.Minute)}
}

// jsonEvents reads the --json lines.
func jsonEvents(t *testing.T, out string) []map[string]any {
	t.Helper()
	var evs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		evs = append(evs, m)
	}
	return evs
}

func TestGrantTerminalFlagsNeedHeadless(t *testing.T) {
	withStore(t, accounts.Meta{UserID: "@a:x.org"})
	fe := FrontEnds{Grant: func(string) int { t.Error("the window opened"); return ExitOK }}
	for _, args := range [][]string{{"grant", "--json"}, {"grant", "--protocol", "msc4388"}, {"grant", "--open"}, {"grant", "--qr-invert"}} {
		if code, _, errOut := runWith(fe, args...); code != ExitUsage || !strings.Contains(errOut, "--headless") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
	if code, _, _ := runWith(fe, "grant", "extra"); code != ExitUsage {
		t.Errorf("an argument: exit %d", code)
	}
	if code, _, errOut := runWith(FrontEnds{}, "grant"); code != ExitUsage || !strings.Contains(errOut, "no desktop window") {
		t.Errorf("no window: exit %d, stderr %q", code, errOut)
	}
}

// TestGrantOpensTheWindowForTheAccount: without --headless the window
// opens on the grant for the account chosen as `token` and `logout`
// choose it, and its exit code is the command's.
func TestGrantOpensTheWindowForTheAccount(t *testing.T) {
	var opened []string
	fe := FrontEnds{Grant: func(user string) int { opened = append(opened, user); return 5 }}
	withStore(t, accounts.Meta{UserID: "@a:x.org"})
	if code, _, errOut := runWith(fe, "grant"); code != 5 || len(opened) != 1 || opened[0] != "@a:x.org" {
		t.Fatalf("one account: exit %d, opened %q, stderr %q", code, opened, errOut)
	}
	withStore(t, accounts.Meta{UserID: "@a:x.org"}, accounts.Meta{UserID: "@b:x.org"})
	if code, _, errOut := runWith(fe, "grant"); code != ExitUsage || !strings.Contains(errOut, "@b:x.org") {
		t.Fatalf("two accounts: exit %d, stderr %q", code, errOut)
	}
	if code, _, _ := runWith(fe, "grant", "--account", "@b:x.org"); code != 5 || opened[len(opened)-1] != "@b:x.org" {
		t.Fatalf("--account: exit %d, opened %q", code, opened)
	}
	if code, _, _ := runWith(fe, "grant", "--account", "@nobody:x.org"); code != ExitFail || len(opened) != 2 {
		t.Fatalf("unknown account: exit %d, opened %q", code, opened)
	}
	withStore(t)
	if code, _, errOut := runWith(fe, "grant"); code != ExitFail || !strings.Contains(errOut, "qrlogin login") {
		t.Fatalf("no account: exit %d, stderr %q", code, errOut)
	}
}

// TestGrantHeadlessJSON: the grant's events as JSON lines, the check code
// read from stdin and handed to the grant, no browser opened without
// --open, and exit 0 at done.
func TestGrantHeadlessJSON(t *testing.T) {
	isolateConfig(t)
	withStore(t, accounts.Meta{UserID: "@a:x.org"})
	g := withScriptedGrant(t,
		[]login.Event{qrEvent(), login.CheckCodeNeeded{}},
		[]login.Event{login.SecureChannelEstablished{}, login.VerificationURI{URI: "https://auth.x.org/link?code=RKTT", Opened: false},
			login.NewDeviceSignedIn{DeviceID: "NEWPHONE"}, login.SecretsShared{CrossSigning: true, Backup: true}}, nil)
	code, out, errOut := runStdin(FrontEnds{}, "42\n", "grant", "--headless", "--json", "--protocol", "msc4108-2024")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if g.user != "@a:x.org" || g.cfg.Preference != "msc4108-2024" || g.cfg.OpenURI != nil {
		t.Fatalf("the grant got user %q, preference %q, OpenURI set %v", g.user, g.cfg.Preference, g.cfg.OpenURI != nil)
	}
	evs := jsonEvents(t, out)
	var names []string
	for _, e := range evs {
		names = append(names, e["event"].(string))
	}
	want := "qr check_code_needed secure_channel_established verification_uri device_signed_in secrets_shared done"
	if strings.Join(names, " ") != want {
		t.Fatalf("events %q, want %q", names, want)
	}
	if v := evs[3]; v["uri"] != "https://auth.x.org/link?code=RKTT" || v["opened"] != false {
		t.Errorf("verification_uri %v", v)
	}
	if v := evs[4]; v["device_id"] != "NEWPHONE" {
		t.Errorf("device_signed_in %v", v)
	}
	if v := evs[5]; v["cross_signing"] != true || v["backup"] != true {
		t.Errorf("secrets_shared %v", v)
	}
	if v := evs[6]; v["user_id"] != "@a:x.org" || v["device_id"] != "NEWPHONE" || v["secrets_sent"] != true {
		t.Errorf("done %v", v)
	}
	if !strings.Contains(errOut, "█") && !strings.Contains(errOut, "▀") && !strings.Contains(errOut, "▄") {
		t.Errorf("no QR code drawn on stderr: %q", errOut)
	}
}

// TestGrantHeadlessWords: the terminal asks for the new device's code and
// prints the approval page's address; a warning gets the error table's
// words.
func TestGrantHeadlessWords(t *testing.T) {
	isolateConfig(t)
	withStore(t, accounts.Meta{UserID: "@a:x.org"})
	withScriptedGrant(t,
		[]login.Event{qrEvent(), login.CheckCodeNeeded{}},
		[]login.Event{login.SecureChannelEstablished{}, login.VerificationURI{URI: "https://auth.x.org/link"},
			login.NewDeviceSignedIn{DeviceID: "NEWPHONE"}, login.Warning{Code: "secrets_not_shared", Message: "m"}}, nil)
	code, out, errOut := runStdin(FrontEnds{}, "42\n", "grant", "--headless")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"Scan this code with the new device", "Type the code the new device shows", "Connected securely to the new device",
		"open this page", "  https://auth.x.org/link\n", "NEWPHONE is signed in", "Done: the new device NEWPHONE is signed in to @a:x.org"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "Warning: This account is not verified on this computer") {
		t.Errorf("stderr %q", errOut)
	}
	if strings.Contains(out, "phone") {
		t.Errorf("the grant speaks of a phone:\n%s", out)
	}
}

// TestGrantHeadlessOpenOpensTheBrowser: --open hands the grant a way to
// open the page, which is the system browser's.
func TestGrantHeadlessOpenOpensTheBrowser(t *testing.T) {
	isolateConfig(t)
	withStore(t, accounts.Meta{UserID: "@a:x.org"})
	g := withScriptedGrant(t, nil, nil, nil)
	var opened []string
	old := openBrowser
	openBrowser = func(uri string) error { opened = append(opened, uri); return nil }
	t.Cleanup(func() { openBrowser = old })
	if code, _, errOut := runStdin(FrontEnds{}, "", "grant", "--headless", "--open"); code != ExitOK {
		t.Fatalf("exit %d, %q", code, errOut)
	}
	if g.cfg.OpenURI == nil {
		t.Fatal("--open gave the grant no way to open the page")
	}
	_ = g.cfg.OpenURI("https://auth.x.org/link")
	if len(opened) != 1 || opened[0] != "https://auth.x.org/link" {
		t.Fatalf("opened %q", opened)
	}
}

// TestGrantHeadlessFailures: a failed grant exits 1 with the error
// table's code; stdin closing at the check code cancels it.
func TestGrantHeadlessFailures(t *testing.T) {
	isolateConfig(t)
	withStore(t, accounts.Meta{UserID: "@a:x.org"})
	withScriptedGrant(t, []login.Event{qrEvent()}, nil, accounts.ErrNotFound)
	code, out, _ := runStdin(FrontEnds{}, "", "grant", "--headless", "--json", "--account", "@a:x.org")
	evs := jsonEvents(t, out)
	if last := evs[len(evs)-1]; code != ExitFail || last["event"] != "error" || last["code"] != "account_not_found" {
		t.Fatalf("exit %d, last event %v", code, last)
	}

	withScriptedGrant(t, []login.Event{qrEvent(), login.CheckCodeNeeded{}}, []login.Event{login.SecureChannelEstablished{}}, nil)
	code, out, _ = runStdin(FrontEnds{}, "", "grant", "--headless", "--json")
	evs = jsonEvents(t, out)
	if last := evs[len(evs)-1]; code != ExitFail || last["code"] != "cancelled" {
		t.Fatalf("stdin closed: exit %d, last event %v", code, last)
	}
}

// TestGrantHeadlessWithTheRealController runs signin.StartGrant and the
// real flow for an account whose server is a closed port on 127.0.0.1:
// one error event and exit 1.
func TestGrantHeadlessWithTheRealController(t *testing.T) {
	isolateConfig(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	_ = l.Close()
	withStore(t, accounts.Meta{UserID: "@a:x.org", DeviceID: "DESKTOP", Homeserver: closed})
	code, out, errOut := runStdin(FrontEnds{}, "", "grant", "--headless", "--json")
	if code != ExitFail {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	evs := jsonEvents(t, out)
	if last := evs[len(evs)-1]; last["event"] != "error" || last["code"] == "" || !strings.Contains(last["detail"].(string), "@a:x.org") {
		t.Fatalf("last event %v", last)
	}
}

// TestGrantDoneSaysWhyNoKeysWereSent: the done line says why the new
// device got no keys (damaged keys here are not "not verified"), and the
// JSON done event carries the reason's code.
func TestGrantDoneSaysWhyNoKeysWereSent(t *testing.T) {
	for _, c := range []struct {
		reason, words string
	}{
		{login.WarningSecretsNotShared, "not verified"},
		{signin.WarningStoredKeysDamaged, "cannot be read"},
	} {
		done := signin.GrantDone{UserID: "@a:x.org", DeviceID: "NEWPHONE", KeysNotSent: c.reason}
		var out, errOut bytes.Buffer
		newEventPrinter(Stdio{In: strings.NewReader(""), Out: &out, Err: &errOut}, false, qrcode.TerminalOptions{}, grantWords).event(done)
		if !strings.Contains(out.String(), c.words) || (c.reason == signin.WarningStoredKeysDamaged && strings.Contains(out.String(), "not verified")) {
			t.Errorf("%s: %q", c.reason, out.String())
		}
		out.Reset()
		newEventPrinter(Stdio{In: strings.NewReader(""), Out: &out, Err: &errOut}, true, qrcode.TerminalOptions{}, grantWords).event(done)
		if ev := jsonEvents(t, out.String())[0]; ev["secrets_sent"] != false || ev["keys_not_sent"] != c.reason {
			t.Errorf("%s: JSON %v", c.reason, ev)
		}
	}
}

// fakeOpener puts an xdg-open running script first on PATH, so the real
// openBrowser runs it instead of a browser.
func fakeOpener(t *testing.T, script string) {
	t.Helper()
	if runtime.GOOS != "linux" && runtime.GOOS != "freebsd" {
		t.Skip("openBrowser runs xdg-open only on Linux and the BSDs")
	}
	dir := t.TempDir()
	if script != "" {
		if err := os.WriteFile(filepath.Join(dir, "xdg-open"), []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+"/bin:/usr/bin")
}

// TestOpenBrowserDoesNotWaitForTheBrowser: xdg-open may stay until the
// browser exits; the grant must go on at once. Only a browser opener that
// cannot be started is a failure (unable_to_open_verification_uri).
func TestOpenBrowserDoesNotWaitForTheBrowser(t *testing.T) {
	t.Run("stays", func(t *testing.T) {
		fakeOpener(t, "sleep 3")
		start := time.Now()
		if err := openBrowser("https://auth.x.org/link"); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 1500*time.Millisecond {
			t.Fatalf("openBrowser waited %v for the browser", d)
		}
	})
	t.Run("exits with an error later", func(t *testing.T) {
		fakeOpener(t, "exit 3")
		if err := openBrowser("https://auth.x.org/link"); err != nil {
			t.Fatalf("a browser that started is a failure: %v", err)
		}
	})
	t.Run("cannot start", func(t *testing.T) {
		fakeOpener(t, "")
		if err := openBrowser("https://auth.x.org/link"); err == nil {
			t.Fatal("no xdg-open, and no error")
		}
	})
}

// TestGrantHeadlessJSONWithoutAnAccount: when no account can be chosen,
// --json still ends with an error event a program can read (the exit
// status stays: 1, or 2 for several accounts and no --account); the
// terminal's words stay on stderr without --json.
func TestGrantHeadlessJSONWithoutAnAccount(t *testing.T) {
	isolateConfig(t)
	withScriptedGrant(t, nil, nil, nil)
	for _, c := range []struct {
		name  string
		store func(t *testing.T)
		exit  int
		code  string
	}{
		{"none", func(t *testing.T) { withStore(t) }, ExitFail, explain.CodeAccountNotFound},
		{"several", func(t *testing.T) { withStore(t, accounts.Meta{UserID: "@a:x.org"}, accounts.Meta{UserID: "@b:x.org"}) }, ExitUsage, explain.CodeAccountNotChosen},
		{"keyring fails", func(t *testing.T) {
			withStore(t).listErr = &accounts.UnavailableError{Err: errors.New("no Secret Service")}
		}, ExitFail, explain.CodeKeyringUnavailable},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.store(t)
			code, out, errOut := runStdin(FrontEnds{}, "", "grant", "--headless", "--json")
			if code != c.exit || out == "" {
				t.Fatalf("exit %d (want %d), stdout %q, stderr %q", code, c.exit, out, errOut)
			}
			evs := jsonEvents(t, out)
			if last := evs[len(evs)-1]; last["event"] != "error" || last["code"] != c.code || last["message"] == "" {
				t.Fatalf("last event %v, want an error %s", last, c.code)
			}
			if strings.Contains(out, "saved") {
				t.Errorf("a grant speaks of saving: %q", out)
			}
			if c.name == "several" && (!strings.Contains(out, "@a:x.org") || !strings.Contains(out, "--account")) {
				t.Errorf("the error does not list the accounts or say how to choose: %q", out)
			}
			code, out, errOut = runStdin(FrontEnds{}, "", "grant", "--headless")
			if code != c.exit || out != "" || errOut == "" {
				t.Errorf("without --json: exit %d, stdout %q, stderr %q", code, out, errOut)
			}
		})
	}
}
