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
	for _, bad := range []string{"!!!", "QUJD fail=consent", "QUJD tamper=nowhere", "QUJD bogus", "QUJD delay=soon", "QUJD tamper=consent",
		"QUJD replay=nowhere", "QUJD replay=", "QUJD replay=consent", "QUJD replay=success"} {
		if _, _, err := parsePhoneLine(bad); err == nil {
			t.Errorf("parsePhoneLine(%q) accepted", bad)
		}
	}
}

// TestParsePhoneLineReplay: replay=STEP sets Script.ReplayAt, the phone
// writing its previous ciphertext again in place of STEP's message.
func TestParsePhoneLineReplay(t *testing.T) {
	for word, want := range map[string]phone.Step{
		"replay=protocols":         phone.StepProtocols,
		"replay=protocol_accepted": phone.StepProtocolAccepted,
		"replay=secrets":           phone.StepSecrets,
	} {
		qr, s, err := parsePhoneLine("QUJD " + word)
		if err != nil {
			t.Fatalf("%s: %v", word, err)
		}
		if string(qr) != "ABC" || s != (phone.Script{ReplayAt: want}) {
			t.Errorf("%s: got %q %+v, want ReplayAt %s", word, qr, s, want)
		}
	}
}

// FuzzParsePhoneLine: any line gives a script that validates, or an error;
// never a panic.
func FuzzParsePhoneLine(f *testing.F) {
	for _, seed := range []string{"QUJD", "QUJD deny", "QUJD fail=consent:user_cancelled delay=1s", "QUJD tamper=", "QUJD replay=secrets", "=", " ", "QUJD fail=:"} {
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
