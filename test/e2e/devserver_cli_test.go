package e2e

import (
	"context"
	"io"
	"os/exec"
	"regexp"
	"testing"
	"time"
)

// TestDevServerCommandWithScriptedPhone: the demo set-up, all out of
// process: `qrlogin dev-server` with its scripted phone fed the QR payload
// on stdin, and `qrlogin login --headless --json` typing the check code the
// phone prints on stderr.
func TestDevServerCommandWithScriptedPhone(t *testing.T) {
	requireSession(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	server := exec.CommandContext(ctx, qrloginBinary(t), "dev-server", "--listen", "127.0.0.1:0", "--interval", "1")
	server.Env = commandEnv()
	var serverErr syncBuffer
	server.Stderr = &serverErr
	phoneIn, err := server.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = server.Wait() }()

	base := waitFor(t, &serverErr, regexp.MustCompile(`homeserver (http://127\.0\.0\.1:\d+)\n`))
	p := startLogin(t, ctx, qrloginBinary(t), commandEnv(), "--homeserver", base, "--protocol", gen2024)
	defer p.stdin.Close()
	var last event
	for e := range p.events {
		last = e
		switch e.name() {
		case "qr":
			if _, err := io.WriteString(phoneIn, e.str("data")+"\n"); err != nil {
				t.Fatal(err)
			}
		case "check_code_needed":
			code := waitFor(t, &serverErr, regexp.MustCompile(`check code: (\d\d)\n`))
			if _, err := io.WriteString(p.stdin, code+"\n"); err != nil {
				t.Fatal(err)
			}
		}
	}
	<-p.exited
	if p.exit != 0 || last.name() != "done" || last["verified"] != true {
		t.Fatalf("exit %d, last event %v\nlogin stderr:\n%s\ndev-server stderr:\n%s", p.exit, last, p.stderr.String(), serverErr.String())
	}
	waitFor(t, &serverErr, regexp.MustCompile(`scripted phone: signed in device (\w+)`))
	if _, stderr, code := runCommand(t, commandEnv(), "logout", "--account", last.str("user_id")); code != 0 {
		t.Errorf("logout: exit %d\n%s", code, stderr)
	}
}

// waitFor waits until re matches the buffer and returns its first group.
func waitFor(t *testing.T, b *syncBuffer, re *regexp.Regexp) string {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(b.String()); m != nil {
			return m[1]
		}
	}
	t.Fatalf("no %v in:\n%s", re, b.String())
	return ""
}
