package cli

import (
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/protocol/phone"
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
