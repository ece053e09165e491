package explain

import (
	"context"
	"errors"

	"github.com/qrlogin/qrlogin/app/accounts"
	"github.com/qrlogin/qrlogin/app/signin"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/msc4108"
	"github.com/qrlogin/qrlogin/protocol/oauth"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
)

// Warning codes with words of their own (the rest show their message).
const (
	// CodeSecretsNotShared: signing in another device from an account
	// that is not verified here sends it no keys (MSC4108 "Secret sharing
	// and device verification"); the flow warns with this code.
	CodeSecretsNotShared = login.WarningSecretsNotShared
)

var accountNotFound = Explanation{Code: CodeAccountNotFound, Message: "That account is not signed in on this computer.",
	Next: "Choose one of the accounts signed in here, or sign this computer in to it first."}

// grantReasons words each m.login.failure reason for signing in another
// device, where the other device is the new one: the reasons this computer
// sends it and the ones it may send (MSC4108). The code is the reason.
var grantReasons = map[string][2]string{
	msc4108.ReasonDeviceAlreadyExists: {"A device with the new device's ID is already on your account, so this computer did not sign it in.",
		"Start again on the new device. If it keeps happening, remove the old device of that name from your account."},
	msc4108.ReasonDeviceNotFound: {"The new device said it was signed in, but it did not appear on your account, so no keys were sent to it.",
		"Start again. If it keeps happening, your server may be slow to add new devices."},
	msc4108.ReasonUnableToOpenVerificationURI: {"This computer could not open the page to approve the new device in your web browser.",
		"Check that a web browser is installed and chosen as the default one, then start again. " +
			"In a terminal, `qrlogin grant --headless` prints the page's address for you to open instead."},
	msc4108.ReasonUnsupportedProtocol: {"The new device asked to sign in in a way this computer does not support.",
		"Update the Matrix app on the new device, or sign it in another way."},
	msc4108.ReasonUserCancelled:        {"The sign-in was cancelled on the new device.", "Start again when you are ready."},
	msc4108.ReasonAuthorizationExpired: {"The new device was not approved in time.", "Start again and approve the new device in your browser within a few minutes."},
	msc4108.ReasonUnexpectedMessageReceived: {"The new device and this computer got out of step.",
		"Start again, and keep the app on the new device open until the end. If it keeps happening, update it."},
}

// grantErrors pairs each error a grant ends with on its own initiative
// with the m.login.failure reason it told the new device.
var grantErrors = []grantError{
	{login.ErrDeviceAlreadyExists, msc4108.ReasonDeviceAlreadyExists},
	{login.ErrDeviceNotFound, msc4108.ReasonDeviceNotFound},
	{login.ErrVerificationURI, msc4108.ReasonUnableToOpenVerificationURI},
	{login.ErrUnsupportedProtocol, msc4108.ReasonUnsupportedProtocol},
}

type grantError struct {
	err    error
	reason string
}

// explainGrant words a failed grant (signin.GrantError): the same codes
// as a sign-in, with "the new device" where a sign-in says "your phone".
// Failures that are the same either way (the network, the keyring, the
// server) keep their sign-in words.
func explainGrant(err error) Explanation {
	// Before the reasons: the device checks that found out may also have
	// told the new device device_not_found or device_already_exists, but
	// the way forward is here.
	if errors.Is(err, signin.ErrSessionEnded) {
		return Explanation{Code: CodeAccountSignedOut,
			Message: "This computer's session of the account has ended: it was signed out, perhaps from another device, so this computer cannot sign in other devices with it.",
			Next:    "Remove the account from this computer only, then sign this computer in to it again and start over."}
	}
	if errors.Is(err, login.ErrUnsafeVerificationURI) {
		// The reason the new device was told; not a browser problem.
		return Explanation{Code: msc4108.ReasonUnableToOpenVerificationURI,
			Message: "The new device asked this computer to open an unsafe address (one that does not start with https://), so it was not opened and the new device was not signed in.",
			Next:    "Only sign in devices you hold. If this one is yours, update its Matrix app and start again."}
	}
	var phone *login.PhoneFailure
	reason := ""
	for _, g := range grantErrors {
		if errors.Is(err, g.err) {
			reason = g.reason
		}
	}
	if errors.As(err, &phone) {
		reason = phone.Reason
	}
	if reason != "" {
		if words, ok := grantReasons[reason]; ok {
			return Explanation{Code: reason, Message: words[0], Next: words[1]}
		}
		return Explanation{Code: reason, Message: "The new device stopped the sign-in.",
			Next: "Start again. If it keeps happening, update the Matrix app on the new device."}
	}
	switch {
	case errors.Is(err, securechannel.ErrCheckCodeFormat):
		return Explanation{Code: CodeCheckCodeMalformed, Message: "The code from the new device is one or two digits.",
			Next: "Type only the digits the new device shows, like 07."}
	case errors.Is(err, securechannel.ErrCheckCodeMismatch):
		return Explanation{Code: CodeCheckCodeMismatch, Message: "The code you typed does not match the one on the new device.",
			Next: "Start again and type the digits the new device shows. If it happens again, someone else may have scanned the code."}
	case errors.Is(err, login.ErrDeclined), errors.Is(err, oauth.ErrAccessDenied):
		return Explanation{Code: CodeDeclined, Message: "The new device was declined in the browser.", Next: "If that was a mistake, start again and approve it."}
	case errors.Is(err, login.ErrAuthorizationExpired), errors.Is(err, oauth.ErrAuthorizationExpired):
		w := grantReasons[msc4108.ReasonAuthorizationExpired]
		return Explanation{Code: CodeAuthorizationExpired, Message: w[0], Next: w[1]}
	case errors.Is(err, securechannel.ErrDecrypt), errors.Is(err, securechannel.ErrHandshake), errors.Is(err, securechannel.ErrAAD),
		errors.Is(err, securechannel.ErrChannelClosed):
		return Explanation{Code: CodeSecureChannelFailed, Message: "The secure connection to the new device failed.",
			Next: "Start again. If it keeps happening, something may be interfering with the connection."}
	case errors.Is(err, login.ErrCancelled), errors.Is(err, context.Canceled):
		return Explanation{Code: CodeCancelled, Message: "Signing in the other device was cancelled.", Next: "Start again when you are ready."}
	case errors.As(err, new(*login.UnexpectedMessageError)):
		w := grantReasons[msc4108.ReasonUnexpectedMessageReceived]
		return Explanation{Code: msc4108.ReasonUnexpectedMessageReceived, Message: w[0], Next: w[1]}
	case errors.As(err, new(*accounts.UnavailableError)):
		// A grant saves nothing: it reads the account's tokens and keys.
		return Explanation{Code: CodeKeyringUnavailable, Message: "This computer's password store (keyring) is not available, so the account stored in it cannot be used.",
			Next: "Install and unlock a keyring such as GNOME Keyring or KeePassXC, then try again."}
	}
	x := explain(err)
	if x.Code == CodeFailed {
		x.Message, x.Next = "Signing in the other device did not work.", "Start again. The details below say what went wrong."
	}
	return x
}

// Warning words a login.Warning: the codes in this table get its words,
// any other keeps the message it came with.
func Warning(w login.Warning) Explanation {
	switch w.Code {
	case CodeSecretsNotShared:
		return Explanation{Code: w.Code, Message: "This account is not verified on this computer, so its encryption keys were not sent to the new device.",
			Next: "Verify the new device from another device of yours that is verified, so that it can read your encrypted messages.", Detail: w.Message}
	case signin.WarningStoredKeysDamaged:
		return Explanation{Code: w.Code, Message: "The encryption keys stored for this account on this computer cannot be read, so none are sent to the new device.",
			Next: "Verify the new device from another device of yours. To repair this computer, remove the account here and sign in again.", Detail: w.Message}
	}
	return Explanation{Code: w.Code, Message: w.Message, Detail: w.Message}
}

// Sentence is the explanation as one line: what happened, then what to do.
func (x Explanation) Sentence() string {
	if x.Next == "" {
		return x.Message
	}
	return x.Message + " " + x.Next
}
