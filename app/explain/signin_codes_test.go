package explain

import (
	"fmt"
	"strings"
	"testing"

	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/msc4108"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
)

// A message from the phone that does not open is an attack signal: the
// words must say that someone may have interfered, and what to do.
func TestTamperingIsExplainedAsInterference(t *testing.T) {
	e := Error(fmt.Errorf("%w: message authentication failed", securechannel.ErrDecrypt))
	if e.Code != CodeSecureChannelFailed {
		t.Fatalf("code %q, want %q", e.Code, CodeSecureChannelFailed)
	}
	if !strings.Contains(e.Message, "interfer") || !strings.Contains(e.Message, "nothing was saved") || e.Next == "" {
		t.Fatalf("message %q / next %q: say that someone may have interfered, that nothing was kept, and what to do", e.Message, e.Next)
	}
}

// A token for another device than the one asked for ends with
// device_not_found, in words about this computer, not the phone.
func TestWrongDeviceIsExplained(t *testing.T) {
	e := Error(fmt.Errorf("sign-in: %w", &login.WrongDeviceError{Want: "ABC", Got: "XYZ"}))
	if e.Code != msc4108.ReasonDeviceNotFound {
		t.Fatalf("code %q, want %q", e.Code, msc4108.ReasonDeviceNotFound)
	}
	if e.Message == Error(&login.PhoneFailure{Reason: msc4108.ReasonDeviceNotFound}).Message || e.Next == "" {
		t.Fatalf("message %q / next %q: say that the server signed in another device", e.Message, e.Next)
	}
}
