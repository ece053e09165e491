// Package jssdk holds qrlogin's real-peer interop tests against
// matrix-js-sdk, the Matrix client library inside Element Web, with the real
// vodozemac it runs on (@matrix-org/matrix-sdk-crypto-wasm); both are pinned
// in package.json / package-lock.json.
//
// newdevice.mjs runs js-sdk's MSC4108 (2024 stack) code as the NEW device
// that scanned an existing device's QR code (mode 0x04): the ETag rendezvous
// session and ECIES secure channel from the QR, then the OAuth 2.0 device
// authorization grant against the homeserver named in the QR, then
// m.login.success and m.login.secrets. It speaks JSON lines on
// stdin/stdout (its header lists the events). The Go tests start it with
// Node.js through startNewDevicePeer; qrlogin's existing-device flow
// (login.Grant, grant_test.go), or a minimal one for facts the flow never
// exercises (newdevice_test.go), plays the existing device (G) against the
// development homeserver (internal/devserver). They run
// `npm ci` here when node_modules is missing; without node/npm they skip,
// or fail when the CI environment variable is set.
//
// The package has no non-test code.
package jssdk
