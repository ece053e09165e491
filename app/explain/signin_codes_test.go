package explain

import (
	"fmt"
	"strings"
	"testing"

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
