package cli

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/qrlogin/qrlogin/internal/identity"
)

// run dispatches args with buffers and no windows and returns the exit code
// and both streams.
func run(t testing.TB, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runWith(FrontEnds{}, args...)
}

// runWith is run with the given front ends.
func runWith(fe FrontEnds, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = Dispatch(context.Background(), args, Stdio{In: strings.NewReader(""), Out: &out, Err: &errOut}, fe)
	return code, out.String(), errOut.String()
}

func TestVersionFlagPrintsBinaryNameAndVersion(t *testing.T) {
	want := identity.BinaryName + " " + identity.Version + "\n"
	for _, args := range [][]string{{"--version"}, {"-version"}, {"version"}} {
		code, out, errOut := run(t, args...)
		if code != ExitOK || out != want || errOut != "" {
			t.Errorf("%v: code %d, stdout %q, stderr %q; want 0, %q, empty", args, code, out, errOut, want)
		}
	}
}

func TestHelpListsEveryRegisteredCommand(t *testing.T) {
	for _, flag := range []string{"--help", "-h", "help"} {
		code, out, errOut := run(t, flag)
		if code != ExitOK || errOut != "" {
			t.Fatalf("%s: code %d, stderr %q", flag, code, errOut)
		}
		if !strings.Contains(out, "Usage:") {
			t.Errorf("%s: no usage in %q", flag, out)
		}
		for _, c := range All() {
			if !strings.Contains(out, "  "+c.Name+" ") {
				t.Errorf("%s: command %q missing from help:\n%s", flag, c.Name, out)
			}
		}
	}
}

func TestUnknownCommandIsUsageErrorOnStderr(t *testing.T) {
	for _, args := range [][]string{{"no-such-command"}, {"--no-such-flag"}, {"-x", "y"}} {
		code, out, errOut := run(t, args...)
		if code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, ExitUsage)
		}
		if out != "" {
			t.Errorf("%v: stdout %q, want nothing", args, out)
		}
		if !strings.Contains(errOut, args[0]) || !strings.Contains(errOut, "Usage:") {
			t.Errorf("%v: stderr %q should name the argument and show usage", args, errOut)
		}
	}
}

func TestNoArgumentsOpensTheGUI(t *testing.T) {
	opened := 0
	fe := FrontEnds{Window: func() int { opened++; return 7 }}
	if code, _, _ := runWith(fe); code != 7 || opened != 1 {
		t.Fatalf("exit %d after %d launches; want the launcher's 7 after 1", code, opened)
	}
	if code, _, _ := runWith(fe, "-psn_0_12345"); code != 7 || opened != 2 {
		t.Fatalf("macOS -psn_ argument: exit %d after %d launches", code, opened)
	}
}

func TestNoArgumentsWithoutGUIIsUsageError(t *testing.T) {
	code, out, errOut := run(t)
	if code != ExitUsage || out != "" || !strings.Contains(errOut, "Usage:") {
		t.Fatalf("code %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestCommandsOpenTheFrontEndsMainPassed: `login` without --headless opens
// the window (signing in at once when --homeserver is given) and `demo` the
// demo, each returning that window's exit code; a build without them is a
// usage error.
func TestCommandsOpenTheFrontEndsMainPassed(t *testing.T) {
	var opened []string
	fe := FrontEnds{
		Window: func() int { opened = append(opened, "window"); return 4 },
		SignIn: func(hs string) int { opened = append(opened, "sign-in "+hs); return 5 },
		Demo:   func() int { opened = append(opened, "demo"); return 6 },
	}
	for _, c := range []struct {
		args   []string
		code   int
		opened string
	}{
		{[]string{"login"}, 4, "window"},
		{[]string{"login", "--homeserver", "example.org"}, 5, "sign-in example.org"},
		{[]string{"demo"}, 6, "demo"},
	} {
		opened = nil
		if code, _, errOut := runWith(fe, c.args...); code != c.code || strings.Join(opened, ",") != c.opened {
			t.Errorf("%v: exit %d, opened %q, stderr %q; want %d and %q", c.args, code, opened, errOut, c.code, c.opened)
		}
	}
	for _, args := range [][]string{{"login"}, {"login", "--homeserver", "example.org"}, {"demo"}} {
		if code, out, errOut := run(t, args...); code != ExitUsage || out != "" || !strings.Contains(errOut, "no desktop window") {
			t.Errorf("%v without windows: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

func TestCommandReceivesItsArgumentsAndStreams(t *testing.T) {
	const name = "zz-test-echo"
	var gotArgs []string
	Register(Command{Name: name, Summary: "test only", Run: func(_ context.Context, args []string, s Stdio, _ FrontEnds) int {
		gotArgs = args
		_, _ = io.WriteString(s.Out, "out")
		_, _ = io.WriteString(s.Err, "err")
		return 3
	}})
	t.Cleanup(func() { delete(commands, name) })
	code, out, errOut := run(t, name, "a", "--b")
	if code != 3 || out != "out" || errOut != "err" || strings.Join(gotArgs, " ") != "a --b" {
		t.Fatalf("code %d out %q err %q args %q", code, out, errOut, gotArgs)
	}
}

func TestVersionCommandRejectsArguments(t *testing.T) {
	if code, _, _ := run(t, "version", "extra"); code != ExitUsage {
		t.Fatalf("exit %d, want %d", code, ExitUsage)
	}
}

func TestRegisterRejectsDuplicates(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("registering \"version\" twice did not panic")
		}
	}()
	Register(Command{Name: "version"})
}

// BenchmarkHelp is the placeholder benchmark that `make bench` shows until
// the protocol packages bring real ones.
func BenchmarkHelp(b *testing.B) {
	for b.Loop() {
		WriteUsage(io.Discard)
	}
}

// FuzzDispatch: any first argument gives exit 0 or 2 and never a panic, as
// long as it does not name a command (those have their own tests).
func FuzzDispatch(f *testing.F) {
	for _, seed := range []string{"", "--help", "--version", "-", "--", "-psn_1", "unknown", "\x00", "--help=x"} {
		f.Add(seed, "arg")
	}
	f.Fuzz(func(t *testing.T, first, second string) {
		if c, ok := Lookup(first); ok && c.Name != "version" {
			t.Skip("names a command")
		}
		code, _, _ := run(t, first, second)
		if code != ExitOK && code != ExitUsage {
			t.Fatalf("Dispatch(%q, %q) = %d", first, second, code)
		}
	})
}
