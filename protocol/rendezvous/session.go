// Package rendezvous implements the insecure rendezvous sessions that two
// devices use to exchange messages during sign-in with QR, in both protocol
// generations:
//
//   - MSC4388 (sequence-token API, JSON bodies, POST/GET/PUT/DELETE under
//     /_matrix/client/{unstable/io.element.msc4388,v1}/rendezvous), and
//   - the 2024 MSC4108 "ETag" API (text/plain bodies, If-Match/If-None-Match,
//     POST to /_matrix/client/unstable/org.matrix.msc4108/rendezvous and then
//     GET/PUT/DELETE on the returned URL).
//
// It has a client for each (both satisfy Session). The server of both
// generations (behind `qrlogin rendezvous-server`) is package
// protocol/rendezvous/server; it shares this package's wire constants
// (wire.go).
package rendezvous

import (
	"context"
	"time"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// Session is one device's view of a rendezvous session. Use is strict
// ping-pong: Send only when it is our turn (we hold the peer's latest
// payload, or we created the session), then Receive the peer's answer.
// Every method takes a context; the session's own expiry is applied as a
// deadline on top of it.
type Session interface {
	// Send replaces the payload. A lost response is retried safely.
	Send(ctx context.Context, payload string) error
	// Receive polls until the payload was written by the peer (its token
	// differs from the last one this session saw) and returns it.
	Receive(ctx context.Context, pace vocab.Pace) (string, error)
	// Cancel deletes the session on the server (best effort is the caller's
	// choice; the error says what happened).
	Cancel(ctx context.Context) error
	// Token is the session's current version marker as this device last saw
	// it: the MSC4388 sequence_token, or the 2024 ETag. MSC4388's secure
	// channel binds it into the AAD (snapshot it before Send/Receive).
	Token() string
	// ExpiresAt is when the server will end the session, computed from the
	// server's relative expiry at receipt on this machine's monotonic clock.
	ExpiresAt() time.Time
}
