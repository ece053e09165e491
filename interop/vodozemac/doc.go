// Package vodozemac holds qrlogin's real-peer interop tests against
// vodozemac, the Matrix cryptography library that released phones use, as
// shipped inside the npm package @matrix-org/matrix-sdk-crypto-wasm
// (pinned in package.json / package-lock.json).
//
// peer.js speaks a line-based JSON protocol on stdin/stdout (its header
// lists the operations); the Go tests start it with Node.js and drive it:
// QR codes in both directions and the 2024 MSC4108 ECIES channel with Go
// and vodozemac in each role. The tests run `npm ci` here when node_modules
// is missing. Without node/npm they skip, or fail when the CI environment
// variable is set.
//
// The package has no non-test code.
package vodozemac
