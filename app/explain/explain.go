// Package explain is the one table that turns errors into what a person
// reads: a stable machine code (the --json "code"), one plain sentence, and
// what to do next. The GUI and the terminal mode both use it; the words
// avoid protocol jargon ("rendezvous", "account provider").
package explain

import (
	"context"
	"errors"
	"fmt"
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
	// CodeCheckCodeMalformed: what was typed cannot be a check code (not one
	// or two digits). It does not end a sign-in: the terminal prints it as a
	// warning and asks again, the window shows it under the field.
	CodeCheckCodeMalformed = "check_code_malformed"
	// CodeHomeserverMismatch: the phone is signed in to another homeserver
	// than the one chosen; nothing was signed in.
	CodeHomeserverMismatch = "homeserver_mismatch"
	CodeAccountNotFound    = "account_not_found"
	// CodeAccountSignedOut: the account's server no longer accepts this
	// computer's session of it (signin.ErrSessionEnded).
	CodeAccountSignedOut = "account_signed_out"
	// CodeAccountNotChosen: several accounts are signed in here and the
	// command was not told which one to use.
	CodeAccountNotChosen = "account_not_chosen"
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
		wrongDevice    *login.WrongDeviceError
		oauthErr       *oauth.Error
		metadataErr    *oauth.MetadataError
		matrixErr      *matrix.Error
		rendezvousHTTP *rendezvous.HTTPError
		hsMismatch     *login.HomeserverMismatchError
	)
	var grant *signin.GrantError
	switch {
	case errors.As(err, &grant):
		return explainGrant(grant.Err)
	case errors.Is(err, accounts.ErrNotFound):
		return accountNotFound
	case errors.As(err, &phone):
		if words, ok := phoneReasons[phone.Reason]; ok {
			return Explanation{Code: phone.Reason, Message: words[0], Next: words[1]}
		}
		return Explanation{Code: phone.Reason, Message: "Your phone stopped the sign-in.", Next: "Start again. If it keeps happening, update the Matrix app on your phone."}
	case errors.As(err, &wrongDevice):
		return Explanation{Code: msc4108.ReasonDeviceNotFound,
			Message: "Your server signed this computer in as a different device than the one it asked for, so the sign-in was stopped and undone.",
			Next:    "Start again. If it happens again, tell your server's administrator."}
	case errors.As(err, &hsMismatch):
		return Explanation{Code: CodeHomeserverMismatch,
			Message: fmt.Sprintf("Your phone is signed in to %s, but you chose to sign in to %s.", hsMismatch.Phone, hsMismatch.Chosen),
			Next:    fmt.Sprintf("To sign in to %s instead, start again with that server. Otherwise, scan the code with a phone signed in to %s.", hsMismatch.Phone, hsMismatch.Chosen)}
	case errors.Is(err, securechannel.ErrCheckCodeFormat):
		return Explanation{Code: CodeCheckCodeMalformed, Message: "The code from your phone is one or two digits.",
			Next: "Type only the digits your phone shows, like 07."}
	case errors.Is(err, securechannel.ErrCheckCodeMismatch):
		return Explanation{Code: CodeCheckCodeMismatch, Message: "The code you typed does not match the one on your phone.",
			Next: "Start again and type the two digits your phone shows. If it happens again, someone else may have scanned the code."}
	case errors.Is(err, login.ErrDeclined), errors.Is(err, oauth.ErrAccessDenied):
		return Explanation{Code: CodeDeclined, Message: "The sign-in was declined on your phone.", Next: "If that was a mistake, start again and choose Approve."}
	case errors.Is(err, login.ErrAuthorizationExpired), errors.Is(err, oauth.ErrAuthorizationExpired):
		return Explanation{Code: CodeAuthorizationExpired, Message: "The sign-in was not approved in time.", Next: "Start again and approve on your phone within a few minutes."}
	case errors.Is(err, login.ErrRendezvousBroken):
		return Explanation{Code: CodeServerError, Message: "The server ended each sign-in code as soon as it made it, so no code could be scanned.",
			Next: "Wait a minute and try again. If it keeps happening, tell your server's administrator."}
	case errors.Is(err, login.ErrRendezvousExpired), errors.Is(err, rendezvous.ErrExpired):
		return Explanation{Code: CodeRendezvousExpired, Message: "The sign-in took too long and the code expired.", Next: "Start again; you will get a fresh code."}
	case errors.As(err, &unsupported), errors.Is(err, rendezvous.ErrNeedsAccount), errors.Is(err, rendezvous.ErrNotEnabled),
		errors.Is(err, oauth.ErrDeviceGrantUnsupported), errors.Is(err, oauth.ErrNoOAuth), errors.Is(err, oauth.ErrRegistrationUnsupported):
		msg := "This server does not offer sign-in with a QR code for a new device."
		if unsupported != nil {
			msg = unsupported.Error()
		}
		return Explanation{Code: CodeServerUnsupported, Message: msg, Next: "Ask your server's administrator, or sign in another way."}
	case errors.Is(err, securechannel.ErrDecrypt):
		// A message that does not open was changed, replayed or sent by
		// someone else (MSC4388 "Secure operations"); the flow has revoked
		// whatever the sign-in had obtained.
		return Explanation{Code: CodeSecureChannelFailed,
			Message: "A message from your phone arrived altered or out of order, so someone may have interfered with the connection. The sign-in was stopped and nothing was saved.",
			Next:    "Start again on a network you trust, and make sure only your phone scans the code. If it happens again, tell your server's administrator."}
	case errors.Is(err, securechannel.ErrHandshake), errors.Is(err, securechannel.ErrAAD),
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
	case errors.As(err, &metadataErr) && errors.Is(err, oauth.ErrInsecureURL):
		// The server's own metadata names a plain http endpoint: nothing the
		// user typed, and nothing was sent there.
		return Explanation{Code: CodeServerUnsupported, Message: "Your server's sign-in service gave an address that does not use https, so this computer stopped before sending anything there.",
			Next: "Ask your server's administrator to serve sign-in over https."}
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
