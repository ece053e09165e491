// Package login runs MSC4108 sign-in over a secure channel, in both roles
// of the device that shows the QR code, each as a state machine on one
// goroutine that reports progress as typed Events: Flow signs this desktop
// in (the new device; the phone approves), Grant signs another device in
// with the account this desktop holds (the existing device).
package login

import "time"

// Event is one step of progress. The GUI applies events with fyne.Do; the
// terminal mode prints them (`qrlogin login --headless --json`), where each
// event's Name is the "event" field, a stable contract.
type Event interface {
	Name() string
}

// QRReady: show this QR code (again for each fresh code after an expiry).
type QRReady struct {
	Protocol  string    // "msc4388" or "msc4108-2024"
	Payload   []byte    // the exact QR bytes
	ExpiresAt time.Time // when the rendezvous ends if nobody scans
	// Alternative is the other generation the server offers ("" if none):
	// SwitchGeneration regenerates the code with it.
	Alternative string
}

// CheckCodeNeeded: ask the user for the digits the phone shows, then call
// the flow's check-code input exactly once.
type CheckCodeNeeded struct{}

// SecureChannelEstablished: the check code matched.
type SecureChannelEstablished struct{}

// Homeserver: the phone told us which homeserver to sign in to.
type Homeserver struct {
	BaseURL string
}

// UserCode: approve on the phone; the consent page may ask for this code.
type UserCode struct {
	UserCode        string
	VerificationURI string
	ExpiresAt       time.Time // whichever ends first: device code or rendezvous
}

// LoggedIn: tokens obtained and whoami answered.
type LoggedIn struct {
	UserID   string
	DeviceID string
}

// Secrets: what the phone shared (true = present and verified against the
// server's published public keys).
type Secrets struct {
	CrossSigning bool
	Backup       bool
}

// Warning: something the user should know that does not end the sign-in.
type Warning struct {
	Code    string
	Message string
}

// Done: the sign-in finished and the account is stored.
type Done struct {
	UserID   string
	DeviceID string
	Verified bool // cross-signed with the account's verified self-signing key
}

// Failed: the sign-in ended with an error (see the error table in app/).
type Failed struct {
	Err error
}

func (QRReady) Name() string                  { return "qr" }
func (CheckCodeNeeded) Name() string          { return "check_code_needed" }
func (SecureChannelEstablished) Name() string { return "secure_channel_established" }
func (Homeserver) Name() string               { return "homeserver" }
func (UserCode) Name() string                 { return "user_code" }
func (LoggedIn) Name() string                 { return "logged_in" }
func (Secrets) Name() string                  { return "secrets" }
func (Warning) Name() string                  { return "warning" }
func (Done) Name() string                     { return "done" }
func (Failed) Name() string                   { return "error" }
