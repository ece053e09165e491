// Package e2e runs the real qrlogin binary's headless mode (`qrlogin login
// --headless --json`) against the development homeserver (package
// devserver, in process on 127.0.0.1) with the scripted phone (package
// phone) on the other side, and checks the stable JSON event contract, the
// exit codes, the keyring afterwards (`qrlogin accounts`, `token`,
// `logout`), and that no secret reaches the binary's output. Signing
// another device in (`qrlogin grant --headless --json`) runs all out of
// process against `qrlogin dev-server`, whose scripted new device scans
// the grant's QR code (grant_test.go).
//
// The tests need a D-Bus session with an unlocked Secret Service: `make
// test` provides one (scripts/with-test-session). Run them alone with
//
//	scripts/with-test-session go test -count=1 ./test/e2e/
//
// Without DBUS_SESSION_BUS_ADDRESS they skip, unless CI is set (then they
// fail). The binary is built once per run with plain `go build` flags so
// the warm Fyne build cache is reused.
package e2e
