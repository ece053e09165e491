// Package explain is the one table that turns errors into what a person
// reads: a stable machine code (the --json "code"), one plain sentence, and
// what to do next. The GUI and the terminal mode both use it; the words
// avoid protocol jargon ("rendezvous", "account provider").
package explain

import (
	"context"
	"errors"
	"net"
	"net/url"

	"github.com/qrlogin/qrlogin/app/accounts"
	"github.com/qrlogin/qrlogin/app/signin"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/matrix"
	"github.com/qrlogin/qrlogin/protocol/msc4108"
	"github.com/qrlogin/qrlogin/protocol/oauth"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
)

// Stable codes (README "Error codes"). Add codes; never rename them.
const (
	CodeCheckCodeMismatch    = "check_code_mismatch"
	CodeDeclined             = "declined"
	CodeAuthorizationExpired = "authorization_expired"
	CodeRendezvousExpired    = "rendezvous_expired"
	CodeServerUnsupported    = "server_unsupported"
	CodeSecureChannelFailed  = "secure_channel_failed"
	CodeNetwork              = "network"
	CodeKeyringUnavailable   = "keyring_unavailable"
	CodeKeyringDamaged       = "keyring_damaged"
	CodeCancelled            = "cancelled"
	CodeServerError          = "server_error"
	CodeFailed               = "failed"
)

// Explanation is an error in words.
type Explanation struct {
	Code    string // stable machine code
	Message string // one plain sentence: what happened
	Next    string // what to do now
	Detail  string // the technical reason, for a details disclosure
}

// phoneReasons explains each m.login.failure reason (MSC4108); the code is
// the reason as the phone gave it.
var phoneReasons = map[string][2]string{
	msc4108.ReasonAuthorizationExpired:        {"The approval on your phone took too long.", "Start again and approve on your phone within a few minutes."},
	msc4108.ReasonDeviceAlreadyExists:         {"Your phone says a device with this name already exists on your account.", "Start again; this computer will pick a new device name."},
	msc4108.ReasonDeviceNotFound:              {"Your phone could not find this computer on your account after the sign-in.", "Start again. If it keeps happening, your server may be slow to add new devices."},
	msc4108.ReasonUnexpectedMessageReceived:   {"Your phone and this computer got out of step.", "Start again, and keep the app on your phone open until the end."},
	msc4108.ReasonUnsupportedProtocol:         {"Your phone can't sign in this computer this way.", "Update the Matrix app on your phone, or sign in another way."},
	msc4108.ReasonUserCancelled:               {"The sign-in was cancelled on your phone.", "Start again when you are ready."},
	msc4108.ReasonUnableToOpenVerificationURI: {"Your phone could not open the page to approve the sign-in.", "Check your phone's internet connection and start again."},
}

// Error explains err. A nil error gives the zero Explanation.
func Error(err error) Explanation {
	if err == nil {
		return Explanation{}
	}
	e := explain(err)
	e.Detail = err.Error()
	return e
}

func explain(err error) Explanation {
	var (
		phone          *login.PhoneFailure
		unsupported    *rendezvous.UnsupportedError
		unavailable    *accounts.UnavailableError
		corrupt        *accounts.CorruptError
		revoke         *signin.RevokeError
		urlErr         *url.Error
		netErr         net.Error
		unexpected     *login.UnexpectedMessageError
		oauthErr       *oauth.Error
		matrixErr      *matrix.Error
		rendezvousHTTP *rendezvous.HTTPError
	)
	switch {
	case errors.As(err, &phone):
		if words, ok := phoneReasons[phone.Reason]; ok {
			return Explanation{Code: phone.Reason, Message: words[0], Next: words[1]}
		}
		return Explanation{Code: phone.Reason, Message: "Your phone stopped the sign-in.", Next: "Start again. If it keeps happening, update the Matrix app on your phone."}
	case errors.Is(err, securechannel.ErrCheckCodeMismatch):
		return Explanation{Code: CodeCheckCodeMismatch, Message: "The code you typed does not match the one on your phone.",
			Next: "Start again and type the two digits your phone shows. If it happens again, someone else may have scanned the code."}
	case errors.Is(err, login.ErrDeclined), errors.Is(err, oauth.ErrAccessDenied):
		return Explanation{Code: CodeDeclined, Message: "The sign-in was declined on your phone.", Next: "If that was a mistake, start again and choose Approve."}
	case errors.Is(err, login.ErrAuthorizationExpired), errors.Is(err, oauth.ErrAuthorizationExpired):
		return Explanation{Code: CodeAuthorizationExpired, Message: "The sign-in was not approved in time.", Next: "Start again and approve on your phone within a few minutes."}
	case errors.Is(err, login.ErrRendezvousExpired), errors.Is(err, rendezvous.ErrExpired):
		return Explanation{Code: CodeRendezvousExpired, Message: "The sign-in took too long and the code expired.", Next: "Start again; you will get a fresh code."}
	case errors.As(err, &unsupported), errors.Is(err, rendezvous.ErrNeedsAccount), errors.Is(err, rendezvous.ErrNotEnabled),
		errors.Is(err, oauth.ErrDeviceGrantUnsupported), errors.Is(err, oauth.ErrNoOAuth), errors.Is(err, oauth.ErrRegistrationUnsupported):
		msg := "This server does not offer sign-in with a QR code for a new device."
		if unsupported != nil {
			msg = unsupported.Error()
		}
		return Explanation{Code: CodeServerUnsupported, Message: msg, Next: "Ask your server's administrator, or sign in another way."}
	case errors.Is(err, securechannel.ErrDecrypt), errors.Is(err, securechannel.ErrHandshake), errors.Is(err, securechannel.ErrAAD),
		errors.Is(err, securechannel.ErrChannelClosed):
		return Explanation{Code: CodeSecureChannelFailed, Message: "The secure connection to your phone failed.",
			Next: "Start again. If it keeps happening, something may be interfering with the connection."}
	case errors.As(err, &unavailable):
		return Explanation{Code: CodeKeyringUnavailable, Message: "This computer's password store (keyring) is not available, so the sign-in cannot be saved.",
			Next: "Install and unlock a keyring such as GNOME Keyring or KeePassXC, then try again."}
	case errors.As(err, &corrupt):
		return Explanation{Code: CodeKeyringDamaged, Message: "What this computer stored for the account is damaged, so it cannot be used.",
			Next: "Remove the account from this computer only, then sign in again."}
	case errors.Is(err, login.ErrCancelled), errors.Is(err, context.Canceled):
		return Explanation{Code: CodeCancelled, Message: "The sign-in was cancelled.", Next: "Start again when you are ready."}
	case errors.As(err, &rendezvousHTTP) && (rendezvousHTTP.Status >= 500 || rendezvousHTTP.Status == 429):
		// The server answered, with an error, after our retries: not a
		// network problem for the user to fix.
		return Explanation{Code: CodeServerError, Message: "The server is not answering properly right now.", Next: "Wait a minute and try again."}
	case errors.Is(err, rendezvous.ErrNetwork),
		errors.As(err, &urlErr), errors.As(err, &netErr), errors.Is(err, context.DeadlineExceeded):
		return Explanation{Code: CodeNetwork, Message: "The server could not be reached.", Next: "Check your internet connection and the server name, then try again."}
	case errors.Is(err, rendezvous.ErrInsecureURL):
		return Explanation{Code: CodeServerUnsupported, Message: "The server address must start with https://.", Next: "Check the server name and try again."}
	case errors.As(err, &unexpected):
		return Explanation{Code: msc4108.ReasonUnexpectedMessageReceived, Message: "Your phone and this computer got out of step.",
			Next: "Start again, and keep the app on your phone open until the end. If it keeps happening, update the Matrix app on your phone."}
	case errors.As(err, &oauthErr) && (oauthErr.Status >= 500 || oauthErr.Status == 429),
		errors.As(err, &matrixErr) && (matrixErr.Status >= 500 || matrixErr.Status == 429),
		errors.Is(err, rendezvous.ErrRateLimited), errors.Is(err, rendezvous.ErrMalformedResponse):
		return Explanation{Code: CodeServerError, Message: "The server is not answering properly right now.", Next: "Wait a minute and try again."}
	case errors.As(err, &revoke):
		// The server answered but did not end the session (network and
		// server trouble are matched above, through the wrapped cause).
		return Explanation{Code: CodeFailed, Message: "The server did not sign this computer out.",
			Next: "Try again later, or remove the account from this computer only."}
	}
	return Explanation{Code: CodeFailed, Message: "The sign-in did not work.", Next: "Start again. The details below say what went wrong."}
}
