package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/phone"
)

func TestParsePhoneLine(t *testing.T) {
	qr, s, err := parsePhoneLine("QUJD deny fail=consent:user_cancelled tamper=secrets delay=2s wrong-secrets server-name")
	if err != nil {
		t.Fatal(err)
	}
	want := phone.Script{Deny: true, FailAt: phone.StepConsent, FailReason: "user_cancelled", TamperAt: phone.StepSecrets,
		Delay: 2 * time.Second, WrongSecrets: true, HomeserverAsServerName: true}
	if string(qr) != "ABC" || s != want {
		t.Fatalf("got %q %+v", qr, s)
	}
	for _, bad := range []string{"!!!", "QUJD fail=consent", "QUJD tamper=nowhere", "QUJD bogus", "QUJD delay=soon", "QUJD tamper=consent"} {
		if _, _, err := parsePhoneLine(bad); err == nil {
			t.Errorf("parsePhoneLine(%q) accepted", bad)
		}
	}
}

// FuzzParsePhoneLine: any line gives a script that validates, or an error;
// never a panic.
func FuzzParsePhoneLine(f *testing.F) {
	for _, seed := range []string{"QUJD", "QUJD deny", "QUJD fail=consent:user_cancelled delay=1s", "QUJD tamper=", "=", " ", "QUJD fail=:"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if len(line) == 0 || len(strings.Fields(line)) == 0 {
			return // runDevServerPhone skips blank lines before parsing
		}
		_, s, err := parsePhoneLine(line)
		if err == nil && s.Validate() != nil {
			t.Fatalf("parsePhoneLine(%q) returned an invalid script", line)
		}
	})
}
