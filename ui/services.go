package ui

import (
	"context"

	"github.com/qrlogin/qrlogin/app/accounts"
	"github.com/qrlogin/qrlogin/app/config"
	"github.com/qrlogin/qrlogin/app/signin"
	"github.com/qrlogin/qrlogin/protocol/login"
)

// DefaultServices are the real ones: sign-ins through app/signin, accounts
// in the OS keyring, settings in the config folder. The demo sets
// TryWithoutPhone on the result.
func DefaultServices() Services {
	return Services{
		StartSignIn: func(ctx context.Context, homeserver string, s config.Settings, emit func(login.Event)) Controller {
			var store signin.Store
			if opened, err := accounts.Open(); err != nil {
				// The controller checks the store before showing a code,
				// so the error screen explains this like any failure.
				store = unavailableStore{err}
			} else {
				store = opened
			}
			return signin.Start(ctx, signin.WithClientIDCache(signin.FlowConfig(s, homeserver)), store, emit)
		},
		StartGrant: func(ctx context.Context, userID string, s config.Settings, openURI func(string) error, emit func(login.Event)) Controller {
			var store signin.GrantStore
			if opened, err := accounts.Open(); err != nil {
				store = unavailableStore{err} // the grant fails at once, explained
			} else {
				store = opened
			}
			cfg := signin.GrantFlowConfig(s)
			cfg.OpenURI = openURI
			return signin.StartGrant(ctx, userID, cfg, store, emit)
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
