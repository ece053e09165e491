// Package securechannel establishes the end-to-end encrypted channel between
// the device that shows the QR code (G) and the device that scans it (S),
// over an insecure Transport (one rendezvous session), in both protocol
// generations:
//
//   - MSC4388: HPKE base mode, X25519/HKDF-SHA256/ChaCha20-Poly1305, with an
//     OHTTP-style response context, AAD binding base URL, rendezvous ID and
//     sequence token (MSC4388 "Secure channel"; docs/protocol-divergences.md
//     "Variants" for what vodozemac actually does);
//   - MSC4108 2024: vodozemac's ECIES (X25519, HKDF-SHA512, ChaCha20-Poly1305
//     with little-endian counters, no AAD; docs/protocol-divergences.md
//     "ECIES channel").
//
// Both produce a *Channel with the same methods, so the login flow does not
// care which generation it runs on.
package securechannel
