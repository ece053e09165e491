package explain

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/qrlogin/qrlogin/app/accounts"
	"github.com/qrlogin/qrlogin/app/signin"
	"github.com/qrlogin/qrlogin/protocol/oauth"
)

// TestDamagedKeyringItem: a stored value that does not read back as
// written has its own code and says how to recover: remove the account
// from this computer (the window and `qrlogin logout` offer it) and sign
// in again.
func TestDamagedKeyringItem(t *testing.T) {
	x := Error(fmt.Errorf("load: %w", &accounts.CorruptError{Item: "account:@a:x:g1:olm_pickle", Reason: "part 2 of 3 is missing"}))
	if x.Code != CodeKeyringDamaged || !strings.Contains(x.Message, "damaged") || !strings.Contains(x.Next, "sign in again") {
		t.Fatalf("%+v", x)
	}
}

// TestSignOutFailures are worded as a sign-out, not as a failed sign-in:
// unreachable is the network, and a server that answered but did not end
// the session says so.
func TestSignOutFailures(t *testing.T) {
	if x := Error(&signin.RevokeError{Err: &url.Error{Op: "Post", URL: "https://auth.example.org/revoke", Err: errors.New("connection refused")}}); x.Code != CodeNetwork {
		t.Errorf("unreachable: %+v", x)
	}
	x := Error(&signin.RevokeError{Err: &oauth.Error{Endpoint: "revocation", Status: 400, Code: "invalid_client"}})
	if x.Code != CodeFailed || strings.Contains(x.Message, "sign-in") || !strings.Contains(x.Message, "sign") {
		t.Errorf("refused: %+v", x)
	}
}
