// Package oauth is the OAuth 2.0 client the new device uses to obtain its
// Matrix access token (MSC4108 "Login via OAuth 2.0 device authorization
// flow"; docs/protocol-divergences.md "Client registration", "Device
// authorization" and "Token polling"): server metadata discovery, dynamic
// client registration as a public native client, the RFC 8628 device
// authorization grant with a poller that understands
// matrix-authentication-service's HTTP 403 answers, refresh-token rotation
// and RFC 7009 revocation.
//
// Tokens live in Token, which never prints its secrets. Every call that
// waits takes a context.Context; response bodies are size-limited.
//
// golang.org/x/oauth2 v0.38.0 was evaluated for the device flow and is not
// used at run time (see xoauth2_test.go for the tests that decided it):
//   - Config.DeviceAuth builds its request without the caller's context, so
//     a hung device_authorization_endpoint cannot be cancelled;
//   - Config.DeviceAccessToken does parse MAS's 403 error bodies correctly,
//     but it sleeps whole seconds on the wall clock (no injectable clock) and
//     computes the expiry from time.Now, which makes the RFC 8628 §3.5 rules
//     untestable without real waits of 5+ seconds.
package oauth
