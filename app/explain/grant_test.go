package explain

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/qrlogin/qrlogin/app/accounts"
	"github.com/qrlogin/qrlogin/app/signin"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/matrix"
	"github.com/qrlogin/qrlogin/protocol/msc4108"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
)

func grantErr(err error) error { return &signin.GrantError{UserID: "@a:x.org", Err: err} }

// TestGrantFailuresSpeakOfTheNewDevice: a failed grant keeps the stable
// codes of a sign-in but never tells the user to look at "your phone":
// the other device is the new one.
func TestGrantFailuresSpeakOfTheNewDevice(t *testing.T) {
	for _, c := range []struct {
		err  error
		code string
	}{
		{&login.PhoneFailure{Reason: msc4108.ReasonUserCancelled}, msc4108.ReasonUserCancelled},
		{&login.PhoneFailure{Reason: msc4108.ReasonAuthorizationExpired}, msc4108.ReasonAuthorizationExpired},
		{&login.PhoneFailure{Reason: "something_new"}, "something_new"},
		{fmt.Errorf("x: %w", securechannel.ErrCheckCodeMismatch), CodeCheckCodeMismatch},
		{fmt.Errorf("typed %q: %w", "7x", securechannel.ErrCheckCodeFormat), CodeCheckCodeMalformed},
		{securechannel.ErrDecrypt, CodeSecureChannelFailed},
		{login.ErrDeclined, CodeDeclined},
		{login.ErrCancelled, CodeCancelled},
		{&login.UnexpectedMessageError{Got: "m.login.ok", Want: "m.login.protocol"}, msc4108.ReasonUnexpectedMessageReceived},
		{errTest, CodeFailed},
	} {
		x := Error(grantErr(c.err))
		if x.Code != c.code {
			t.Errorf("%v: code %q, want %q", c.err, x.Code, c.code)
		}
		words := x.Message + " " + x.Next
		if strings.Contains(words, "phone") || x.Message == "" || x.Next == "" {
			t.Errorf("%v: %q", c.err, words)
		}
		if !strings.Contains(x.Detail, "@a:x.org") {
			t.Errorf("%v: the detail %q does not name the account", c.err, x.Detail)
		}
	}
	// The same errors outside a grant keep the sign-in's words.
	if x := Error(&login.PhoneFailure{Reason: msc4108.ReasonUserCancelled}); !strings.Contains(x.Message, "phone") {
		t.Errorf("a sign-in's failure lost its words: %+v", x)
	}
	// Failures that are the same in both directions keep their words.
	if x := Error(grantErr(&url.Error{Op: "Get", URL: "https://x.org", Err: errTest})); x.Code != CodeNetwork {
		t.Errorf("network: %+v", x)
	}
	if x := Error(grantErr(&accounts.UnavailableError{Err: errTest})); x.Code != CodeKeyringUnavailable {
		t.Errorf("keyring: %+v", x)
	}
}

var errTest = errors.New("test failure")

// TestGrantReasonsThisComputerSends: the reasons a grant tells the new
// device have their own words, and a grant error registered for a reason
// is explained with it.
func TestGrantReasonsThisComputerSends(t *testing.T) {
	for _, reason := range []string{msc4108.ReasonDeviceAlreadyExists, msc4108.ReasonDeviceNotFound,
		msc4108.ReasonUnableToOpenVerificationURI, msc4108.ReasonUnsupportedProtocol} {
		errSent := errors.New("sent " + reason)
		old := grantErrors
		grantErrors = append(grantErrors, grantError{errSent, reason})
		x := Error(grantErr(fmt.Errorf("step: %w", errSent)))
		grantErrors = old
		if x.Code != reason || x.Message != grantReasons[reason][0] {
			t.Errorf("%s: %+v", reason, x)
		}
	}
	x := Error(grantErr(&login.PhoneFailure{Reason: msc4108.ReasonUnableToOpenVerificationURI}))
	if !strings.Contains(x.Next, "browser") || !strings.Contains(x.Next, "--headless") {
		t.Errorf("the browser failure does not say what to do: %+v", x)
	}
}

// TestAccountNotFound: an account that is not here has its own code,
// inside a grant or not.
func TestAccountNotFound(t *testing.T) {
	for _, err := range []error{accounts.ErrNotFound, grantErr(fmt.Errorf("load: %w", accounts.ErrNotFound))} {
		if x := Error(err); x.Code != CodeAccountNotFound || !strings.Contains(x.Message, "not signed in on this computer") {
			t.Errorf("%v: %+v", err, x)
		}
	}
}

// TestWarningWords: the grant's warnings get the table's words; others
// keep their own message.
func TestWarningWords(t *testing.T) {
	x := Warning(login.Warning{Code: CodeSecretsNotShared, Message: "flow words"})
	if !strings.Contains(x.Message, "not verified") || !strings.Contains(x.Next, "Verify the new device") || x.Detail != "flow words" {
		t.Errorf("secrets_not_shared: %+v", x)
	}
	if x := Warning(login.Warning{Code: signin.WarningStoredKeysDamaged, Message: "m"}); !strings.Contains(x.Message, "cannot be read") {
		t.Errorf("%s: %+v", signin.WarningStoredKeysDamaged, x)
	}
	if x := Warning(login.Warning{Code: "no_backup", Message: "Your phone did not share a key backup."}); x.Sentence() != "Your phone did not share a key backup." {
		t.Errorf("another warning: %q", x.Sentence())
	}
}

// TestGrantWithAnEndedSession: when the server no longer accepts this
// computer's session of the account, the grant says so and how to get
// going again, whatever request found out.
func TestGrantWithAnEndedSession(t *testing.T) {
	// awaitDevice's error: device_not_found went to the new device.
	cause := fmt.Errorf("%w; the last check failed: %w", login.ErrDeviceNotFound, &matrix.Error{Status: 401, Errcode: "M_UNKNOWN_TOKEN"})
	x := Error(grantErr(fmt.Errorf("%w: %w", signin.ErrSessionEnded, cause)))
	if x.Code != CodeAccountSignedOut || !strings.Contains(x.Message, "signed out") ||
		!strings.Contains(x.Next, "Remove the account") || !strings.Contains(x.Next, "sign this computer in") || strings.Contains(x.Message+x.Next, "phone") {
		t.Errorf("%+v", x)
	}
}

// TestGrantKeyringUnavailable: a grant saves nothing, so a keyring that
// cannot be used is not worded as a sign-in that cannot be saved.
func TestGrantKeyringUnavailable(t *testing.T) {
	x := Error(grantErr(&accounts.UnavailableError{Err: errTest}))
	if x.Code != CodeKeyringUnavailable || strings.Contains(x.Message, "saved") || !strings.Contains(x.Next, "keyring") {
		t.Errorf("%+v", x)
	}
}

// TestGrantUnsafeVerificationURI: a new device asking to open a page that
// is not https is not a browser problem: the words say it was refused, and
// to sign in only devices one holds; the code is the reason it was told.
func TestGrantUnsafeVerificationURI(t *testing.T) {
	x := Error(grantErr(fmt.Errorf("%w (%q)", login.ErrUnsafeVerificationURI, "http://evil.example/")))
	if x.Code != msc4108.ReasonUnableToOpenVerificationURI || !strings.Contains(x.Message, "not opened") ||
		!strings.Contains(x.Next, "devices you hold") || strings.Contains(x.Message+x.Next, "browser is installed") {
		t.Errorf("%+v", x)
	}
	// A browser that does not start keeps its words.
	if x := Error(grantErr(fmt.Errorf("%w: no browser", login.ErrVerificationURI))); !strings.Contains(x.Next, "browser") || strings.Contains(x.Next, "devices you hold") {
		t.Errorf("browser: %+v", x)
	}
}
