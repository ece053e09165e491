// Package devserver is a development homeserver for tests and demos: one
// http.Handler that behaves like Synapse with matrix-authentication-service
// (MAS) in front of it, as far as sign-in with QR needs:
//
//   - discovery: /.well-known/matrix/client, /_matrix/client/versions and the
//     OAuth 2.0 server metadata (/_matrix/client/v1/auth_metadata and the
//     unstable MSC2965 path);
//   - OAuth 2.0 as MAS does it (docs/protocol-divergences.md "Client
//     registration", "Device authorization" and "Token polling"): dynamic
//     client registration with MAS's rules, the device authorization grant
//     with MAS's HTTP 403 answers while polling, rotating refresh tokens,
//     RFC 7009 revocation, and a consent page at the verification URI;
//   - the Matrix client-server endpoints the new and the existing device use
//     around MSC4108 "Secret sharing and device verification": whoami,
//     devices/{id}, keys/upload, keys/query, room_keys/version;
//   - one test account with a real cross-signing identity and a megolm key
//     backup whose private keys the scripted phone can share in
//     m.login.secrets (docs/protocol-divergences.md "m.login.secrets");
//   - the rendezvous endpoints of both protocol generations, served by the
//     rendezvous package's handler and gated the way Synapse's config does.
//
// Everything is kept in memory and is meant for 127.0.0.1 only.
package devserver
