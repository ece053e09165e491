package login

import (
	"context"
	"errors"
	"slices"

	"github.com/qrlogin/qrlogin/protocol/msc4108"
	"github.com/qrlogin/qrlogin/protocol/oauth"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/securechannel"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// signIn runs MSC4108 over the trusted channel, from m.login.protocols to
// m.login.secrets: "Login via OAuth 2.0 device authorization flow" steps 1
// to 6, then "Secret sharing and device verification". Each step is a
// method of its own; a Result returned with an error holds tokens that Run
// revokes.
func (f *Flow) signIn(ctx context.Context, target *target) (*Result, error) {
	base, err := f.receiveProtocols(ctx, target)
	if err != nil {
		return nil, err
	}
	grant, err := f.authorizeDevice(ctx, base)
	if err != nil {
		return nil, err
	}
	if err := f.offerDeviceGrant(ctx, grant); err != nil {
		return nil, err
	}
	if err := f.awaitProtocolAccepted(ctx, grant); err != nil {
		return nil, err
	}
	token, channelAlive, err := f.awaitApproval(ctx, grant)
	if err != nil {
		if token != nil {
			// Approved just as the attempt ended: hand the tokens back so Run
			// revokes them (no device left on the account that nothing here can use).
			return &Result{Metadata: grant.metadata, ClientID: grant.client.ClientID, Token: *token, DeviceID: grant.deviceID}, err
		}
		return nil, err
	}
	res, err := f.identify(ctx, grant, token)
	if err != nil {
		return res, err
	}
	secretsRaw, err := f.receiveSecrets(ctx, channelAlive)
	if err != nil {
		return res, err
	}
	if err := f.finishEncryption(ctx, res, secretsRaw); err != nil {
		return res, err
	}
	f.emit(Secrets{CrossSigning: res.CrossSigning, Backup: res.Backup})
	deleteQuietly(f.sess)
	return res, nil
}

// receiveProtocols waits for the phone's m.login.protocols and returns the
// homeserver's base URL (MSC4108 "1. Homeserver discovery": with this device
// showing the QR code the phone names the homeserver). A phone signed in to
// another server than the chosen one ends the sign-in with a
// *HomeserverMismatchError (homeserverFromPhone). A phone that offers
// no protocol this device speaks ends the sign-in (MSC4108 "2. New device
// checks if it can use an available protocol").
func (f *Flow) receiveProtocols(ctx context.Context, target *target) (string, error) {
	raw, err := f.receive(ctx, vocab.PaceReply)
	if err != nil {
		return "", err
	}
	var protocols msc4108.Protocols
	if err := f.expect(raw, msc4108.TypeProtocols, &protocols); err != nil {
		return "", err
	}
	if !slices.Contains(protocols.Protocols, msc4108.ProtocolDeviceGrant) {
		return "", &sendFailure{reason: msc4108.ReasonUnsupportedProtocol, err: errors.New("login: the other device offers no protocol this device supports")}
	}
	base, err := f.homeserverFromPhone(ctx, target, protocols)
	var mismatch *HomeserverMismatchError
	if errors.As(err, &mismatch) {
		// Not the phone's fault: this side stops until the user picks a
		// server, which MSC4108's reasons call a cancellation.
		return "", &sendFailure{reason: msc4108.ReasonUserCancelled, err: err}
	}
	if err != nil {
		return "", &sendFailure{reason: msc4108.ReasonUnsupportedProtocol, err: err}
	}
	f.emit(Homeserver{BaseURL: base})
	return base, nil
}

// identify asks the homeserver whose the new access token is (the device
// has its token, end of MSC4108 "6. New device waits for approval from
// homeserver") and checks that it is the device this sign-in asked for in
// its scope (MSC4108 "3. New device informs existing device that it wants
// to use the device_authorization_grant": the device ID the phone checked).
// A token for another device, or for none, is not this sign-in's: the
// phone hears device_not_found, as when whoami fails. The Result it returns
// holds the tokens even then, so that Run revokes them.
func (f *Flow) identify(ctx context.Context, grant *deviceGrant, token *oauth.Token) (*Result, error) {
	res := &Result{Homeserver: grant.base, Metadata: grant.metadata, ClientID: grant.client.ClientID, Token: *token, DeviceID: grant.deviceID}
	who, err := f.whoami(ctx, grant.base, token.AccessToken)
	if err != nil {
		return res, &sendFailure{reason: msc4108.ReasonDeviceNotFound, err: err}
	}
	if who.DeviceID != grant.deviceID {
		return res, &sendFailure{reason: msc4108.ReasonDeviceNotFound, err: &WrongDeviceError{Want: grant.deviceID, Got: who.DeviceID}}
	}
	res.UserID = who.UserID
	f.emit(LoggedIn{UserID: who.UserID, DeviceID: grant.deviceID})
	return res, nil
}

// receiveSecrets tells the phone that the sign-in worked and reads the
// secrets it shares (MSC4108 "Secret sharing and device verification",
// steps 1 and 2). When the channel has already ended, or ends on the way,
// the sign-in goes on without secrets (nil) after a warning; a message
// other than m.login.secrets ends it. So does a message that does not open
// (tampered with, replayed, or not from the phone): that is not a slow
// phone but someone interfering with the channel (MSC4388 "Secure
// operations"), and the caller revokes the new tokens.
func (f *Flow) receiveSecrets(ctx context.Context, channelAlive bool) ([]byte, error) {
	if !channelAlive {
		f.emit(Warning{Code: "secrets_unavailable", Message: "The connection to the phone ended before it could share the encryption keys."})
		return nil, nil
	}
	if err := f.send(ctx, msc4108.Simple{Type: msc4108.TypeSuccess}); err != nil {
		if errors.Is(err, rendezvous.ErrConcurrentWrite) {
			// The phone's message still opens; the sign-in ends either way
			// and the caller revokes the tokens.
			return nil, f.otherWroteFirst(ctx, err, msc4108.TypeSuccess)
		}
		f.emit(Warning{Code: "secrets_unavailable", Message: "The phone could not be told that the sign-in worked, so it did not share the encryption keys."})
		return nil, nil
	}
	secretsRaw, err := f.receive(ctx, vocab.PaceReply)
	if errors.Is(err, securechannel.ErrDecrypt) {
		return nil, err
	}
	if err != nil {
		f.emit(Warning{Code: "secrets_unavailable", Message: "The phone did not share the encryption keys in time."})
		return nil, nil
	}
	if err := f.expect(secretsRaw, msc4108.TypeSecrets, nil); err != nil {
		return nil, err
	}
	return secretsRaw, nil
}
