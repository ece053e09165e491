package demo

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/qrlogin/qrlogin/app/accounts"
	"github.com/qrlogin/qrlogin/app/config"
	"github.com/qrlogin/qrlogin/app/signin"
	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/ui"
)

// Session is one running demo: the development homeserver, the in-memory
// account store and the pretend phone.
type Session struct {
	Server *devserver.Server
	Phone  *Phone

	store   *accounts.Store
	lockDir string
	cancel  context.CancelFunc
}

// Start starts the demo's homeserver and builds its phone. Close ends both.
func Start(parent context.Context) (*Session, error) {
	ctx, cancel := context.WithCancel(parent)
	srv, err := StartServer(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	// The account store takes a lock file; the demo's lives in a
	// throw-away folder, away from the real store's.
	lockDir, err := os.MkdirTemp("", "qrlogin-demo-")
	if err != nil {
		cancel()
		return nil, errors.Join(err, srv.Close())
	}
	// The demo account's tokens stay in memory: they never reach the OS
	// keyring, so they cannot mix with the user's real accounts, and they
	// vanish with the demo.
	s := &Session{
		Server:  srv,
		store:   accounts.New(accounts.NewMemoryKeyring(), filepath.Join(lockDir, "accounts.lock")),
		lockDir: lockDir,
		cancel:  cancel,
	}
	s.Phone = NewPhone(ctx, srv)
	return s, nil
}

// Close stops the phone and the homeserver and forgets the demo account.
func (s *Session) Close() error {
	s.cancel()
	err := s.Server.Close()
	return errors.Join(err, os.RemoveAll(s.lockDir))
}

// Settings are the demo's settings: the demo server filled in, everything
// else the defaults. They are never saved, so the user's own last server
// stays what it was.
func (s *Session) Settings() config.Settings {
	return config.Settings{LastHomeserver: s.Server.URL()}.Defaults()
}

// Services connects the real screens to the demo: sign-ins and grants go
// to the demo server with the in-memory store, and every event also
// reaches the phone (a new QR code is what it "scans").
func (s *Session) Services() ui.Services {
	return ui.Services{
		StartSignIn: func(ctx context.Context, homeserver string, set config.Settings, emit func(login.Event)) ui.Controller {
			return signin.Start(ctx, signin.FlowConfig(set, homeserver), s.store, func(ev login.Event) {
				emit(ev)
				s.Phone.DesktopEvent(ev)
			})
		},
		// Signing another device in with the demo account: the phone plays
		// the new device and the computer's browser (newdevice.go), so the
		// window's own openURI, the real browser, is not used.
		StartGrant: func(ctx context.Context, userID string, set config.Settings, _ func(string) error, emit func(login.Event)) ui.Controller {
			cfg := signin.GrantFlowConfig(set)
			cfg.OpenURI = s.Phone.OpenApprovalPage
			return signin.StartGrant(ctx, userID, cfg, s.store, func(ev login.Event) {
				emit(ev)
				s.Phone.GrantEvent(ev)
			})
		},
		OpenAccounts: func() (ui.Accounts, error) { return s.store, nil },
		LoadSettings: func() (config.Settings, error) { return s.Settings(), nil },
		SaveSettings: func(config.Settings) error { return nil },
	}
}
