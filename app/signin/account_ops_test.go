package signin

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/app/accounts"
	"github.com/qrlogin/qrlogin/app/config"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

func TestFlowConfigFromSettings(t *testing.T) {
	cfg := FlowConfig(config.Settings{Protocol: config.Protocol2024, MSC4388Variant: "msc-text", RendezvousServer: "https://rv.example.org", PollSpeed: config.PollGentle}, "example.org")
	if cfg.Homeserver != "example.org" || cfg.RendezvousServer != "https://rv.example.org" || cfg.Preference != config.Protocol2024 || cfg.Variant != vocab.VariantMSCText {
		t.Fatalf("config %+v", cfg)
	}
	if cfg.Poll.Reply != 500*time.Millisecond || cfg.Poll.Human != 2*time.Second {
		t.Fatalf("gentle polling %+v", cfg.Poll)
	}
	if normal := FlowConfig(config.Settings{}.Defaults(), "example.org"); normal.Poll.Reply != 0 {
		t.Fatalf("normal polling should keep the flow's defaults, got %+v", normal.Poll)
	}
}

type memoryStore struct {
	accounts map[string]*accounts.Account
	deleted  []string
}

// Remove mirrors accounts.Store.Remove (tested on the real keyring there).
func (m *memoryStore) Remove(user string, revoke func(accounts.Meta, accounts.Secret, accounts.Secret) error) error {
	a, ok := m.accounts[user]
	if !ok {
		return accounts.ErrNotFound
	}
	if err := revoke(a.Meta, a.AccessToken, a.RefreshToken); err != nil {
		return err
	}
	m.deleted = append(m.deleted, user)
	delete(m.accounts, user)
	return nil
}

func (m *memoryStore) Delete(user string) error {
	m.deleted = append(m.deleted, user)
	delete(m.accounts, user)
	return nil
}

// TestLogoutThatCannotReachTheServerKeepsTheAccount: the failure is a
// *RevokeError (what the window and the command line offer local removal
// for), explained as the server being unreachable, and nothing is deleted.
func TestLogoutThatCannotReachTheServerKeepsTheAccount(t *testing.T) {
	rs := newRevocationServer(t)
	rs.Close()
	s := &memoryStore{accounts: map[string]*accounts.Account{"@a:x": {
		Meta:        accounts.Meta{UserID: "@a:x", ClientID: "c", RevocationEndpoint: rs.URL + "/revoke"},
		AccessToken: "mat", RefreshToken: "mar",
	}}}
	err := Logout(context.Background(), s, "@a:x")
	var revokeErr *RevokeError
	if !errors.As(err, &revokeErr) {
		t.Fatalf("Logout error %v, want a *RevokeError", err)
	}
	if len(s.deleted) != 0 {
		t.Fatalf("deleted %q", s.deleted)
	}
	if err := RemoveLocally(s, "@a:x"); err != nil || len(s.deleted) != 1 {
		t.Fatalf("RemoveLocally: %v, deleted %q", err, s.deleted)
	}
}

func TestLogoutWithoutRevocationEndpointDeletes(t *testing.T) {
	s := &memoryStore{accounts: map[string]*accounts.Account{"@a:x": {Meta: accounts.Meta{UserID: "@a:x"}}}}
	if err := Logout(context.Background(), s, "@a:x"); err != nil {
		t.Fatal(err)
	}
	if len(s.deleted) != 1 {
		t.Fatalf("deleted %q", s.deleted)
	}
	if err := Logout(context.Background(), s, "@a:x"); !errors.Is(err, accounts.ErrNotFound) {
		t.Fatalf("second logout: %v, want ErrNotFound", err)
	}
}
