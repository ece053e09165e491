// Package demo is qrlogin's phone-free demonstration (docs/design-notes.md
// "Demo"): the development homeserver in-process on 127.0.0.1, the real
// sign-in screens pointed at it, and a second small window that plays the
// phone. A newcomer sees the whole journey in a minute with no phone and no
// network.
//
// Nothing here touches the user's real accounts or settings: the demo's
// account lives in an in-memory keyring that is gone when the demo ends,
// and its settings are never saved.
//
// The package builds views only; ui/desktop opens the windows (it is the
// one package that imports fyne.io/fyne/v2/app).
package demo

import (
	"context"
	"time"

	"github.com/qrlogin/qrlogin/internal/devserver"
)

// Lifetimes for the demo: long enough to read every screen and click
// through at leisure, short enough that an abandoned QR code shows the
// automatic refresh within a couple of minutes.
const (
	SessionTTL         = 2 * time.Minute
	DeviceCodeLifetime = 5 * time.Minute
	// PollInterval is the device code's poll interval; 1 s is the smallest
	// whole second (devserver.Config.PollInterval), so Approve shows at once.
	PollInterval = time.Second
)

// StartServer starts the development homeserver on a free loopback port,
// offering both protocol generations. It stops when ctx ends or Close is
// called.
func StartServer(ctx context.Context) (*devserver.Server, error) {
	srv, err := devserver.New(devserver.Config{
		DeviceCodeLifetime: DeviceCodeLifetime,
		PollInterval:       PollInterval,
		SessionTTL2024:     SessionTTL,
		SessionTTLMSC4388:  SessionTTL,
	})
	if err != nil {
		return nil, err
	}
	if err := srv.Start(ctx, "127.0.0.1:0"); err != nil {
		_ = srv.Close()
		return nil, err
	}
	return srv, nil
}
