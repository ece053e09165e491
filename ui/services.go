package ui

import (
	"context"

	"github.com/qrlogin/qrlogin/app/accounts"
	"github.com/qrlogin/qrlogin/app/config"
	"github.com/qrlogin/qrlogin/app/signin"
	"github.com/qrlogin/qrlogin/protocol/login"
)

// openStore opens the keyring's account store. A store that cannot be
// opened is an unavailableStore: the sign-in or grant checks its store
// before showing a code and ends at once, explained like any failure.
func openStore() interface {
	signin.Store
	signin.GrantStore
} {
	opened, err := accounts.Open()
	if err != nil {
		return unavailableStore{err}
	}
	return opened
}

// DefaultServices are the real ones: sign-ins through app/signin, accounts
// in the OS keyring, settings in the config folder. The demo sets
// TryWithoutPhone on the result.
func DefaultServices() Services {
	return Services{
		StartSignIn: func(ctx context.Context, homeserver string, s config.Settings, emit func(login.Event)) Controller {
			return signin.Start(ctx, signin.WithClientIDCache(signin.FlowConfig(s, homeserver)), openStore(), emit)
		},
		StartGrant: func(ctx context.Context, userID string, s config.Settings, openURI func(string) error, emit func(login.Event)) Controller {
			cfg := signin.GrantFlowConfig(s)
			cfg.OpenURI = openURI
			return signin.StartGrant(ctx, userID, cfg, openStore(), emit)
		},
		OpenAccounts: func() (Accounts, error) {
			s, err := accounts.Open()
			if err != nil {
				return nil, err
			}
			return s, nil
		},
		LoadSettings: config.Load,
		SaveSettings: config.Save,
	}
}

// unavailableStore stands for a store that could not be opened.
type unavailableStore struct{ err error }

func (u unavailableStore) List() ([]accounts.Meta, error) { return nil, u.err }
func (u unavailableStore) Save(*accounts.Account) (*accounts.Replaced, error) {
	return nil, u.err
}
func (u unavailableStore) LoadKeys(string) (*accounts.Account, *accounts.CorruptError, error) {
	return nil, nil, u.err
}
func (u unavailableStore) AccessToken(context.Context, string, accounts.Refresher) (accounts.Secret, error) {
	return "", u.err
}
