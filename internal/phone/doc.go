// Package phone is a scripted existing device ("the phone") for tests and
// demos: it scans the desktop's sign-in QR code and runs the existing
// device's side of MSC4108 over either protocol generation, the way
// matrix-rust-sdk's grant flow does it (docs/protocol-divergences.md
// "Existing-device flow"):
//
//  1. decode the QR code (a code whose intent is "existing device" is
//     refused: two phones cannot sign each other in);
//  2. join the rendezvous (MSC4388: the base URL and rendezvous ID from the
//     QR code; 2024: the session URL) and complete the secure channel as the
//     scanning device S, showing the check code;
//  3. send m.login.protocols (MSC4388: base_url; 2024: homeserver as a full
//     URL, or as a bare server name the way Element Web sends it);
//  4. receive m.login.protocol, check that the proposed device does not exist
//     yet (GET /devices/{id} with the phone's own token, else
//     device_already_exists), send m.login.protocol_accepted;
//  5. open the consent page and approve or deny there;
//  6. receive m.login.success, wait until the new device appears in the
//     device list (else device_not_found) and send m.login.secrets.
//
// A Script makes it misbehave on purpose (deny, fail with a reason at a
// chosen step, send an unexpected message, tamper with or replay the
// ciphertext, share secrets that do not match the account, answer slowly or
// not at all), so integration tests can drive every failure path of the
// desktop's flow.
//
// It talks to the development homeserver (package devserver) for what a
// person would do by hand: reading the user code off the new device's
// screen and having an account whose secrets it can share.
//
// RunNewDevice (newdevice.go) plays the other side: a new device that scans
// the QR code of a signed-in device (MSC4388 intent 0x01, 2024 mode 0x04)
// and signs in through it the way matrix-js-sdk's new device does, with its
// own misbehaviours (NewDeviceScript), for tests of the existing-device
// flow.
package phone
