// Package matrix holds what the new device needs from the Matrix
// client-server API once it has an access token (MSC4108 "Secret sharing and
// device verification"): a small C-S client (whoami, devices, keys upload and
// query, room-key backup version), the m.login.secrets bundle and its
// verification against the server's published keys, canonical JSON and
// signing (Matrix spec appendix "Signing JSON"), and the device's Olm
// identity (maunium.net/go/mautrix/crypto/goolm).
//
// Private keys live in PrivateKey, which prints as [redacted] and can be
// zeroed; the access token never appears in fmt output.
package matrix
