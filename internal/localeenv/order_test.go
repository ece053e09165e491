package localeenv_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"fyne.io/fyne/v2/lang"

	_ "github.com/qrlogin/qrlogin/internal/localeenv"
)

// childEnv marks the copy of this test binary that TestFyneReadsTheFixedLocale
// starts.
const childEnv = "QRLOGIN_LOCALEENV_CHILD"

// TestFyneReadsTheFixedLocale runs this test binary, which links Fyne's lang
// package beside this one as qrlogin does, under C locales: Fyne's
// initialisation and its later locale lookups must print nothing, and LANG
// must reach child processes unchanged.
func TestFyneReadsTheFixedLocale(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		// Fyne's init has run; ask again, as widgets do at run time.
		_ = lang.SystemLocale()
		os.Stdout.WriteString(os.Getenv("LANG") + "|" + os.Getenv("LANGUAGE") + "|" + lang.SystemLocale().LanguageString() + "\n")
		return
	}
	for _, c := range []struct{ env, want string }{
		{"LANG=C.UTF-8", "C.UTF-8|en|en"},
		{"LANG=C.utf8", "C.utf8|en|en"},
		{"LC_ALL=C.UTF-8", "|en|en"},
		{"LANG=C", "C||en"},
		{"LANG=POSIX", "POSIX||en"},
		{"LANG=fr_FR.UTF-8", "fr_FR.UTF-8||fr-FR"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFyneReadsTheFixedLocale$")
		for _, kv := range os.Environ() {
			switch name, _, _ := strings.Cut(kv, "="); name {
			case "LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE":
			default:
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, childEnv+"=1", c.env)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\n%s%s", c.env, err, stdout.String(), stderr.String())
		}
		got, _, _ := strings.Cut(stdout.String(), "\n")
		if got != c.want {
			t.Errorf("%s: LANG|LANGUAGE|Fyne's language = %q, want %q", c.env, got, c.want)
		}
		if stderr.Len() > 0 {
			t.Errorf("%s: stderr %q, want nothing", c.env, stderr.String())
		}
	}
}
