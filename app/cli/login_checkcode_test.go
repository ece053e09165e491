package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/app/explain"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/qrcode"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
)

// fakeTaker records the codes handed to the sign-in.
type fakeTaker struct {
	mu        sync.Mutex
	codes     []string
	cancelled bool
	done      chan struct{}
}

func (f *fakeTaker) SubmitCheckCode(code string) bool {
	f.mu.Lock()
	f.codes = append(f.codes, code)
	f.mu.Unlock()
	close(f.done)
	return true
}

func (f *fakeTaker) Cancel() {
	f.mu.Lock()
	f.cancelled = true
	f.mu.Unlock()
	close(f.done)
}

// syncBuffer is a bytes.Buffer the prompt's goroutine and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// prompt runs the check-code prompt on input and returns what it printed
// and what it handed over.
func prompt(t *testing.T, asJSON bool, input string) (stdout, stderr string, taker *fakeTaker) {
	t.Helper()
	return promptWith(t, signInWords, asJSON, input)
}

// promptWith is prompt in a command's words.
func promptWith(t *testing.T, words terminalWords, asJSON bool, input string) (stdout, stderr string, taker *fakeTaker) {
	t.Helper()
	var out, errOut syncBuffer
	taker = &fakeTaker{done: make(chan struct{})}
	p := newEventPrinter(Stdio{In: strings.NewReader(input), Out: &out, Err: &errOut}, asJSON, qrcode.TerminalOptions{}, words)
	p.attach(taker)
	p.event(login.CheckCodeNeeded{})
	select {
	case <-taker.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the prompt neither submitted nor cancelled")
	}
	return out.String(), errOut.String(), taker
}

func TestHeadlessPromptAsksAgainForAMalformedCode(t *testing.T) {
	x := explain.Error(securechannel.ErrCheckCodeFormat)
	t.Run("words", func(t *testing.T) {
		stdout, stderr, taker := prompt(t, false, "7x\n\n123\n 07 \n")
		if taker.cancelled || len(taker.codes) != 1 || taker.codes[0] != "07" {
			t.Fatalf("handed over %q (cancelled %v), want [07]", taker.codes, taker.cancelled)
		}
		if n := strings.Count(stdout, "Enter the code shown on your phone: "); n != 3 {
			t.Errorf("asked %d times, want 3:\n%s", n, stdout)
		}
		if n := strings.Count(stderr, x.Message+" "+x.Next); n != 2 {
			t.Errorf("explained %d times, want 2:\n%s", n, stderr)
		}
	})
	t.Run("json", func(t *testing.T) {
		stdout, _, taker := prompt(t, true, "4a\n12\n")
		if len(taker.codes) != 1 || taker.codes[0] != "12" {
			t.Fatalf("handed over %q, want [12]", taker.codes)
		}
		var names, codes []string
		for line := range strings.Lines(stdout) {
			var e map[string]string
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("not JSON: %q", line)
			}
			names = append(names, e["event"])
			codes = append(codes, e["code"])
		}
		if strings.Join(names, ",") != "check_code_needed,warning,check_code_needed" || codes[1] != explain.CodeCheckCodeMalformed {
			t.Fatalf("events %v codes %v", names, codes)
		}
	})
	t.Run("end of input after a malformed code", func(t *testing.T) {
		_, _, taker := prompt(t, true, "7x\n")
		if !taker.cancelled || len(taker.codes) != 0 {
			t.Fatalf("handed over %q, cancelled %v; want a cancel", taker.codes, taker.cancelled)
		}
	})
	t.Run("not after the sign-in stopped asking", func(t *testing.T) {
		var out syncBuffer
		r, w := io.Pipe()
		taker := &fakeTaker{done: make(chan struct{})}
		p := newEventPrinter(Stdio{In: r, Out: &out, Err: &out}, true, qrcode.TerminalOptions{}, signInWords)
		p.attach(taker)
		p.event(login.CheckCodeNeeded{})
		p.event(login.Failed{Err: login.ErrRendezvousExpired})
		_, _ = w.Write([]byte("7x\n"))
		_ = w.Close()
		time.Sleep(200 * time.Millisecond)
		if strings.Count(out.String(), "check_code_needed") != 1 || strings.Contains(out.String(), "warning") {
			t.Fatalf("asked again after the sign-in ended:\n%s", out.String())
		}
	})
}

// TestGrantPromptAsksAgainInTheGrantsWords: in `qrlogin grant` the digits
// come from the new device, not "your phone"; the code stays
// check_code_malformed.
func TestGrantPromptAsksAgainInTheGrantsWords(t *testing.T) {
	_, stderr, taker := promptWith(t, grantWords, false, "7x\n07\n")
	if len(taker.codes) != 1 || taker.codes[0] != "07" {
		t.Fatalf("handed over %q", taker.codes)
	}
	if strings.Contains(stderr, "phone") || !strings.Contains(stderr, "the new device shows") {
		t.Errorf("stderr %q", stderr)
	}
	stdout, _, _ := promptWith(t, grantWords, true, "7x\n07\n")
	var warning map[string]string
	for line := range strings.Lines(stdout) {
		var e map[string]string
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		if e["event"] == "warning" {
			warning = e
		}
	}
	if warning["code"] != explain.CodeCheckCodeMalformed || strings.Contains(warning["message"], "phone") || !strings.Contains(warning["message"], "the new device shows") {
		t.Errorf("warning %v", warning)
	}
}
