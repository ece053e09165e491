// Package accounts keeps signed-in Matrix accounts in the OS keyring: one
// keyring item per secret (Windows refuses values over 2560 bytes) plus an
// index item, all under the app ID as the service name. The layout is a
// versioned schema documented in docs/keyring-schema.md; later versions
// must keep reading it.
package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/qrlogin/qrlogin/internal/identity"
)

// SchemaVersion is the layout written by this code (docs/keyring-schema.md).
const SchemaVersion = 1

const indexItem = "index"

// Meta is what is known about an account that is not secret. It is still
// kept in the keyring, next to the secrets, so one place holds an account.
type Meta struct {
	Schema             int       `json:"schema"`
	UserID             string    `json:"user_id"`
	DeviceID           string    `json:"device_id"`
	Homeserver         string    `json:"homeserver"` // client-server base URL
	Issuer             string    `json:"issuer"`
	ClientID           string    `json:"client_id"`
	TokenEndpoint      string    `json:"token_endpoint"`
	RevocationEndpoint string    `json:"revocation_endpoint,omitempty"`
	AccessExpiresAt    time.Time `json:"access_expires_at,omitzero"`
	Verified           bool      `json:"verified"` // cross-signed with the verified self-signing key
	CrossSigning       bool      `json:"cross_signing"`
	Backup             bool      `json:"backup"`
	BackupVersion      string    `json:"backup_version,omitempty"`
	CreatedAt          time.Time `json:"created_at"`
}

// Account is everything stored for one signed-in account.
type Account struct {
	Meta
	AccessToken    Secret
	RefreshToken   Secret
	OlmPickle      Secret // the device's Olm account, pickled
	OlmPickleKey   Secret
	MasterKey      Secret // cross-signing private seeds, unpadded base64
	SelfSigningKey Secret
	UserSigningKey Secret
	BackupKey      Secret // megolm backup private key, unpadded base64
}

// secretFields names each secret item; the names are part of the schema.
func (a *Account) secretFields() []struct {
	name string
	val  *Secret
} {
	return []struct {
		name string
		val  *Secret
	}{
		{"access_token", &a.AccessToken},
		{"refresh_token", &a.RefreshToken},
		{"olm_pickle", &a.OlmPickle},
		{"olm_pickle_key", &a.OlmPickleKey},
		{"master_key", &a.MasterKey},
		{"self_signing_key", &a.SelfSigningKey},
		{"user_signing_key", &a.UserSigningKey},
		{"backup_key", &a.BackupKey},
	}
}

type index struct {
	Schema   int      `json:"schema"`
	Accounts []string `json:"accounts"`
}

// Store is the account store. Methods that change the keyring hold a
// cross-process lock, so two qrlogin processes never interleave writes or
// spend the same refresh token.
type Store struct {
	items    itemStore
	lockPath string
	now      func() time.Time
}

// Open returns the store over the OS keyring.
func Open() (*Store, error) {
	p, err := defaultLockPath()
	if err != nil {
		return nil, err
	}
	return New(OSKeyring{}, p), nil
}

// New returns a store over any backend (tests use the real Secret Service
// too; this exists so the service name and lock file can be isolated).
func New(b Backend, lockPath string) *Store {
	return newWithService(b, identity.AppID, lockPath)
}

// newWithService lets tests use their own keyring service name, so a test
// run inside a desktop session never touches the user's real accounts.
func newWithService(b Backend, service, lockPath string) *Store {
	return &Store{items: itemStore{b: b, service: service}, lockPath: lockPath, now: time.Now}
}

func itemName(userID, field string) string { return "account:" + userID + ":" + field }

// List returns the stored accounts' metadata in the order they were added.
// An account whose metadata cannot be read (half written by a crash) is
// not listed.
func (s *Store) List() ([]Meta, error) {
	idx, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	out := make([]Meta, 0, len(idx.Accounts))
	for _, u := range idx.Accounts {
		m, err := s.readMeta(u)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// Load returns one account with its secrets.
func (s *Store) Load(userID string) (*Account, error) {
	idx, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	if !slices.Contains(idx.Accounts, userID) {
		return nil, ErrNotFound
	}
	m, err := s.readMeta(userID)
	if err != nil {
		return nil, err
	}
	a := &Account{Meta: m}
	for _, f := range a.secretFields() {
		v, err := s.items.get(itemName(userID, f.name))
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		*f.val = Secret(v)
	}
	return a, nil
}

// Save stores an account. Secrets are written and read back first, then the
// metadata, and the account joins the index last: a failure on the way
// leaves nothing listed, and what was written is removed again.
func (s *Store) Save(a *Account) error {
	if a.UserID == "" || a.DeviceID == "" {
		return errors.New("accounts: an account needs a user ID and a device ID")
	}
	return s.withLock(func() error {
		idx, err := s.readIndex()
		if err != nil {
			return err
		}
		existed := slices.Contains(idx.Accounts, a.UserID)
		if err := s.writeAccount(a); err != nil {
			if !existed {
				_ = s.deleteItems(a.UserID)
			}
			return err
		}
		if !existed {
			idx.Accounts = append(idx.Accounts, a.UserID)
			if err := s.writeIndex(idx); err != nil {
				_ = s.deleteItems(a.UserID)
				return err
			}
		}
		return nil
	})
}

func (s *Store) writeAccount(a *Account) error {
	for _, f := range a.secretFields() {
		name := itemName(a.UserID, f.name)
		if *f.val == "" {
			if err := s.items.del(name); err != nil {
				return err
			}
			continue
		}
		if err := s.items.set(name, string(*f.val)); err != nil {
			return err
		}
	}
	m := a.Meta
	m.Schema = SchemaVersion
	if m.CreatedAt.IsZero() {
		m.CreatedAt = s.now().UTC()
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return s.items.set(itemName(a.UserID, "meta"), string(b))
}

// Delete removes an account: first from the index (so it is never listed
// half deleted), then its items. Revoking its tokens is the caller's job,
// done before.
func (s *Store) Delete(userID string) error {
	return s.withLock(func() error { return s.deleteLocked(userID) })
}

// Remove signs an account out: under the cross-process lock it reads the
// account's current tokens, calls revoke with them, and deletes the account
// only if revoke succeeded (so a failure keeps it, to try again). Holding
// the lock throughout means another process cannot rotate the refresh token
// between the read and the revocation, which would leave a live session on
// the server that nothing here knows.
func (s *Store) Remove(userID string, revoke func(m Meta, access, refresh Secret) error) error {
	return s.withLock(func() error {
		idx, err := s.readIndex()
		if err != nil {
			return err
		}
		if !slices.Contains(idx.Accounts, userID) {
			return ErrNotFound
		}
		m, err := s.readMeta(userID)
		if err != nil {
			return err
		}
		var tokens [2]Secret
		for i, field := range []string{"access_token", "refresh_token"} {
			v, err := s.items.get(itemName(userID, field))
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			tokens[i] = Secret(v)
		}
		if err := revoke(m, tokens[0], tokens[1]); err != nil {
			return err
		}
		return s.deleteLocked(userID)
	})
}

// deleteLocked removes an account, index first; the caller holds the lock.
func (s *Store) deleteLocked(userID string) error {
	idx, err := s.readIndex()
	if err != nil {
		return err
	}
	if i := slices.Index(idx.Accounts, userID); i >= 0 {
		idx.Accounts = slices.Delete(idx.Accounts, i, i+1)
		if err := s.writeIndex(idx); err != nil {
			return err
		}
	}
	return s.deleteItems(userID)
}

func (s *Store) deleteItems(userID string) error {
	var first error
	for _, f := range (&Account{}).secretFields() {
		if err := s.items.del(itemName(userID, f.name)); err != nil && first == nil {
			first = err
		}
	}
	if err := s.items.del(itemName(userID, "meta")); err != nil && first == nil {
		first = err
	}
	return first
}

// Refresher exchanges a refresh token for new tokens (the OAuth layer).
// Refresh tokens rotate: the returned refresh token replaces the old one.
type Refresher func(ctx context.Context, m Meta, refreshToken Secret) (access, refresh Secret, expiresAt time.Time, err error)

// refreshMargin: refresh an access token this long before it expires.
const refreshMargin = 60 * time.Second

// AccessToken returns a valid access token for userID, refreshing it first
// when it is about to expire. The new refresh token is stored (and read
// back) before the new access token is handed out, all under the
// cross-process lock, so no two processes spend the same refresh token.
func (s *Store) AccessToken(ctx context.Context, userID string, refresh Refresher) (Secret, error) {
	var out Secret
	err := s.withLock(func() error {
		a, err := s.Load(userID)
		if err != nil {
			return err
		}
		if a.AccessExpiresAt.IsZero() || s.now().Add(refreshMargin).Before(a.AccessExpiresAt) {
			out = a.AccessToken
			return nil
		}
		if a.RefreshToken == "" || refresh == nil {
			return fmt.Errorf("accounts: the access token of %s has expired and cannot be refreshed; sign in again", userID)
		}
		access, newRefresh, exp, err := refresh(ctx, a.Meta, a.RefreshToken)
		if err != nil {
			return err
		}
		if newRefresh != "" {
			if err := s.items.set(itemName(userID, "refresh_token"), string(newRefresh)); err != nil {
				return err
			}
		}
		if err := s.items.set(itemName(userID, "access_token"), string(access)); err != nil {
			return err
		}
		a.AccessExpiresAt = exp
		b, err := json.Marshal(a.Meta)
		if err != nil {
			return err
		}
		if err := s.items.set(itemName(userID, "meta"), string(b)); err != nil {
			return err
		}
		out = access
		return nil
	})
	return out, err
}

func (s *Store) readIndex() (index, error) {
	v, err := s.items.get(indexItem)
	if errors.Is(err, ErrNotFound) {
		return index{Schema: SchemaVersion}, nil
	}
	if err != nil {
		return index{}, err
	}
	var idx index
	if err := json.Unmarshal([]byte(v), &idx); err != nil {
		return index{}, fmt.Errorf("accounts: the keyring index is corrupt: %w", err)
	}
	if idx.Schema > SchemaVersion {
		return index{}, fmt.Errorf("accounts: the keyring was written by a newer qrlogin (schema %d)", idx.Schema)
	}
	return idx, nil
}

func (s *Store) writeIndex(idx index) error {
	idx.Schema = SchemaVersion
	b, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	return s.items.set(indexItem, string(b))
}

func (s *Store) readMeta(userID string) (Meta, error) {
	v, err := s.items.get(itemName(userID, "meta"))
	if err != nil {
		return Meta{}, err
	}
	var m Meta
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return Meta{}, fmt.Errorf("accounts: the stored metadata of %s is corrupt: %w", userID, err)
	}
	return m, nil
}
