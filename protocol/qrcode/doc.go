// Package qrcode is the sign-in QR code: the binary payload in both protocol
// generations, and its rendering as a byte-mode QR symbol.
//
// Payloads (payload.go, fields.go, msc4388.go, msc4108.go, decode.go):
//
//   - MSC4388 "QR code format", type 0x03: prefix ‖ 0x03 ‖ intent ‖ 32-byte
//     Curve25519 key ‖ rendezvous ID ‖ homeserver base URL. The prefix is
//     IO_ELEMENT_MSC4388 while the MSC is unstable ("Unstable prefix"; the
//     only one the reference code parses, docs/protocol-divergences.md "QR
//     prefix") or the stable MATRIX.
//   - The 2024 MSC4108 format still spoken by released phones, MATRIX ‖ 0x02 ‖
//     mode ‖ key ‖ rendezvous URL ‖ [server name]
//     (docs/protocol-divergences.md "2024 QR format").
//
// Decode recognises every form and says which generation it found; a bad
// payload yields a *FormatError that wraps one of the Err* sentinels.
//
// Rendering (matrix.go, image.go, terminal.go): one byte-mode segment of
// exactly the payload bytes at error-correction level Q, as the MSC's
// examples (`qrencode -8 -l Q`), with a 4-module quiet zone. The module
// Matrix is exposed so the GUI can draw it crisply and the terminal can
// print it with half blocks.
package qrcode
