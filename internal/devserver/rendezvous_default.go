package devserver

import (
	"net/http"

	"github.com/qrlogin/qrlogin/protocol/rendezvous/server"
)

// The dev server's Close stops the default handler's sweeper goroutine
// through this method (closeRendezvous).
var _ interface{ Close() } = (*server.Server)(nil)

// defaultRendezvousFactory mounts qrlogin's rendezvous server (package
// protocol/rendezvous/server). The dev server gates the paths itself
// (generation off → 404, MSC4388 authenticated mode → its own token
// check), so the rendezvous server runs in open mode for an authenticated
// dev server and never calls back into whoami. No request rate and no
// per-client session or creation limits (Config's zero values, unlike
// server.DefaultConfig): every test client is 127.0.0.1, and tests poll
// hard and create sessions fast.
var defaultRendezvousFactory RendezvousFactory = func(o RendezvousOptions) (http.Handler, error) {
	mode := server.ModeOpen
	if o.MSC4388 == MSC4388Off {
		mode = server.ModeOff
	}
	cfg := server.Config{
		PublicURL:    o.BaseURL,
		Mode:         mode,
		TTL:          o.SessionTTLMSC4388,
		ETagTTL:      o.SessionTTL2024,
		UnstableOnly: !o.MSC4388StablePaths,
		DisableETag:  !o.Offer2024,
		Now:          o.Now,
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return server.New(cfg), nil
}
