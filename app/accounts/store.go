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
	"strconv"
	"time"

	"github.com/qrlogin/qrlogin/internal/identity"
)

// SchemaVersion is the layout written by this code (docs/keyring-schema.md).
const SchemaVersion = 2

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

// genItemName names a secret of one generation of an account. Generation 0
// is schema 1's naming. Later ones put ":g<n>" after the user ID, which no
// valid user ID ends with (a server name's port is digits only).
func genItemName(userID string, gen int, field string) string {
	if gen == 0 {
		return itemName(userID, field)
	}
	return itemName(userID, "g"+strconv.Itoa(gen)+":"+field)
}

// A sign-in's secrets go to generation 1 or 2, whichever the meta item
// does not point at, as a chunked value alternates between chunk sets a and
// b: the generations in use stay known even when the meta item cannot be
// read (docs/keyring-schema.md).
const (
	firstSlot  = 1
	secondSlot = 2
)

// nextSlot is the generation a sign-in replacing generation current goes to.
func nextSlot(current int) int {
	if current == firstSlot {
		return secondSlot
	}
	return firstSlot
}

// maxProbedGeneration bounds the search for the secrets of an account whose
// meta item is damaged. Earlier version 2 writers counted generations up by
// one per sign-in of a user, so an account they stored can be at any
// generation; this many sign-ins of one user on one computer is far beyond
// any real use.
const maxProbedGeneration = 64

// sweep lists the generations the secrets of userID can be in, given its
// meta item m as read (merr): schema 1's names (0), both slots, and when m
// reads, its generation and the ones an interrupted earlier writer could
// leave next to it. When m is damaged, the generations above the slots that
// hold any item are found by probing up to maxProbedGeneration. The error
// is a keyring failure while probing (the list then holds what was found).
func (s *Store) sweep(userID string, m storedMeta, merr error) ([]int, error) {
	gens := []int{0, firstSlot, secondSlot}
	var err error
	switch {
	case merr == nil:
		gens = append(gens, m.Generation-1, m.Generation, m.Generation+1)
	case errors.As(merr, new(*CorruptError)):
		for g := secondSlot + 1; g <= maxProbedGeneration; g++ {
			var found bool
			if found, err = s.generationPresent(userID, g); err != nil {
				break
			}
			if found {
				gens = append(gens, g)
			}
		}
	}
	slices.Sort(gens)
	gens = slices.Compact(gens)
	return slices.DeleteFunc(gens, func(g int) bool { return g < 0 }), err
}

// generationPresent says whether any secret item of generation gen exists.
func (s *Store) generationPresent(userID string, gen int) (bool, error) {
	for _, f := range (&Account{}).secretFields() {
		_, err := s.items.b.Get(s.items.service, genItemName(userID, gen, f.name))
		switch err := classify(err); {
		case err == nil:
			return true, nil
		case !errors.Is(err, ErrNotFound):
			return false, err
		}
	}
	return false, nil
}

// storedMeta is the meta item: the metadata and the generation whose
// secrets are the account's. It is the account's pointer: a new sign-in's
// secrets are written under a new generation and the meta item switched to
// it last (docs/keyring-schema.md).
type storedMeta struct {
	Meta
	Generation int `json:"generation,omitempty"`
}

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
		out = append(out, m.Meta)
	}
	return out, nil
}

// Load returns one account with its secrets. A secret that is stored but
// damaged is a *CorruptError.
func (s *Store) Load(userID string) (*Account, error) {
	var a *Account
	err := s.readStable(userID, func(m storedMeta) error {
		var err error
		a, err = s.loadSecrets(m)
		return err
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// keyFields are the secrets another device may receive from this one.
var keyFields = []string{"master_key", "self_signing_key", "user_signing_key", "backup_key"}

// LoadKeys returns what signing in another device needs of an account: its
// metadata and the keys it may send (the cross-signing seeds and the backup
// key), not its tokens (AccessToken hands those out) nor its Olm account. A
// key item that is damaged does not fail it: the account is returned with
// no keys at all, and damaged names the item. err is for an account that
// cannot be read.
func (s *Store) LoadKeys(userID string) (a *Account, damaged *CorruptError, err error) {
	err = s.readStable(userID, func(m storedMeta) error {
		keys, err := s.loadSecrets(m, keyFields...)
		damaged = nil
		if errors.As(err, &damaged) {
			a = &Account{Meta: m.Meta}
			return nil
		}
		a = keys
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return a, damaged, nil
}

// loadAttempts bounds how often readStable reads again without the lock
// because a writer switched the account while it read.
const loadAttempts = 3

// readStable calls read with the meta item of a listed account.
//
// Reading takes no lock, so it does not wait for a refresh or a sign-out
// at the server; but another process may meanwhile sign the user in again
// (Save switches the meta item, then deletes the earlier generation) or
// refresh its tokens. The meta item is read again after read: when it
// changed, what was read may mix the two states or miss deleted items, and
// the account is read again, in the end under the lock.
func (s *Store) readStable(userID string, read func(storedMeta) error) error {
	for range loadAttempts {
		if stable, err := s.readOnce(userID, read); stable {
			return err
		}
	}
	return s.withLock(func() error {
		_, err := s.readOnce(userID, read)
		return err
	})
}

// readOnce calls read once and says whether the account's meta item was
// the same before and after (stable); an unstable read is to be thrown
// away.
func (s *Store) readOnce(userID string, read func(storedMeta) error) (stable bool, err error) {
	if _, err := s.listedIndex(userID); err != nil {
		return true, err
	}
	m, before, err := s.readMetaRaw(userID)
	if err != nil {
		return true, err
	}
	err = read(m)
	if _, after, rerr := s.readMetaRaw(userID); rerr != nil || after != before {
		return false, err
	}
	return true, err
}

// loadSecrets reads the account's secrets of generation m.Generation: the
// fields named in only, or every one when only is empty.
func (s *Store) loadSecrets(m storedMeta, only ...string) (*Account, error) {
	a := &Account{Meta: m.Meta}
	for _, f := range a.secretFields() {
		if len(only) > 0 && !slices.Contains(only, f.name) {
			continue
		}
		v, err := s.items.get(genItemName(m.UserID, m.Generation, f.name))
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

// readSecret reads one secret of generation gen; a secret not stored is
// empty.
func (s *Store) readSecret(userID string, gen int, field string) (Secret, error) {
	v, err := s.items.get(genItemName(userID, gen, field))
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	return Secret(v), err
}

// Replaced is the earlier sign-in of the same user that Save replaced. Its
// device's session is still open at the server: the caller ends it with
// these tokens (empty when they could not be read).
type Replaced struct {
	Meta
	AccessToken  Secret
	RefreshToken Secret
}

// Save stores an account. Whatever fails on the way, the keyring holds
// afterwards either what it held before (and Save returns an error) or the
// new account whole (and Save returns nil), never a mix: the secrets go
// under a generation no stored account uses, the meta item is switched to
// that generation, and a new account joins the index last. When the user
// was stored already, the earlier sign-in's items are deleted after the
// switch and its tokens returned, so the caller can end that session at
// the server.
func (s *Store) Save(a *Account) (*Replaced, error) {
	if a.UserID == "" || a.DeviceID == "" {
		return nil, errors.New("accounts: an account needs a user ID and a device ID")
	}
	var replaced *Replaced
	err := s.withLock(func() error {
		idx, err := s.readIndex()
		if err != nil {
			return err
		}
		if idx.Schema < SchemaVersion {
			// Before anything in the new layout is written, so a reader
			// of the old schema refuses rather than misreads; the stored
			// accounts read the same under either.
			if err := s.writeIndex(idx); err != nil {
				return err
			}
		}
		listed := slices.Contains(idx.Accounts, a.UserID)
		gen := firstSlot
		old, oldErr := s.readMeta(a.UserID)
		switch {
		case oldErr == nil:
			gen = nextSlot(old.Generation)
		case errors.Is(oldErr, ErrNotFound):
		case errors.As(oldErr, new(*CorruptError)):
			// A damaged meta item is replaced; its generation is unknown,
			// so after the switch every generation is swept (sweep), and
			// any leftovers under the new one are overwritten below.
		default:
			return oldErr
		}
		if err := s.writeSecrets(a, gen); err != nil {
			s.dropGeneration(a.UserID, gen)
			return err
		}
		if err := s.writeMeta(a.Meta, gen); err != nil {
			// Drop the new secrets only when the meta item surely does
			// not point at them.
			if now, rerr := s.readMeta(a.UserID); errors.Is(rerr, ErrNotFound) || (rerr == nil && now.Generation != gen) {
				s.dropGeneration(a.UserID, gen)
			}
			return err
		}
		if !listed {
			idx.Accounts = append(idx.Accounts, a.UserID)
			if err := s.writeIndex(idx); err != nil {
				_ = s.items.del(itemName(a.UserID, "meta"))
				s.dropGeneration(a.UserID, gen)
				return err
			}
		}
		if oldErr == nil && listed {
			replaced = &Replaced{Meta: old.Meta}
			if prev, err := s.loadSecrets(old); err == nil {
				replaced.AccessToken, replaced.RefreshToken = prev.AccessToken, prev.RefreshToken
			}
		}
		if errors.Is(oldErr, ErrNotFound) {
			return nil
		}
		// The earlier sign-in, and what an earlier failed cleanup may have
		// left; failing here loses nothing (Delete sweeps again).
		gens, _ := s.sweep(a.UserID, old, oldErr)
		for _, g := range gens {
			if g != gen {
				s.dropGeneration(a.UserID, g)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return replaced, nil
}

// writeSecrets writes the account's secrets under generation gen, each read
// back; a secret the account lacks is deleted there, in case an earlier
// failed write left one.
func (s *Store) writeSecrets(a *Account, gen int) error {
	for _, f := range a.secretFields() {
		name := genItemName(a.UserID, gen, f.name)
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
	return nil
}

// writeMeta writes the meta item, pointing at generation gen.
func (s *Store) writeMeta(m Meta, gen int) error {
	m.Schema = SchemaVersion
	if m.CreatedAt.IsZero() {
		m.CreatedAt = s.now().UTC()
	}
	b, err := json.Marshal(storedMeta{Meta: m, Generation: gen})
	if err != nil {
		return err
	}
	return s.items.set(itemName(m.UserID, "meta"), string(b))
}

// dropGeneration deletes the secrets of one generation, best effort: it is
// called only for generations nothing points at.
func (s *Store) dropGeneration(userID string, gen int) {
	for _, f := range (&Account{}).secretFields() {
		_ = s.items.del(genItemName(userID, gen, f.name))
	}
}

// Delete removes an account from this computer only: first from the index
// (so it is never listed half deleted), then its items. Revoking its
// tokens is the caller's job (Remove does both); `qrlogin logout --local`
// uses Delete alone when the server cannot be reached.
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
		if _, err := s.listedIndex(userID); err != nil {
			return err
		}
		m, err := s.readMeta(userID)
		if err != nil {
			return err
		}
		access, err := s.readSecret(userID, m.Generation, "access_token")
		if err != nil {
			return err
		}
		refresh, err := s.readSecret(userID, m.Generation, "refresh_token")
		if err != nil {
			return err
		}
		if err := revoke(m.Meta, access, refresh); err != nil {
			return err
		}
		return s.deleteLocked(userID)
	})
}

// deleteLocked removes an account, index first; the caller holds the lock.
// It sweeps every generation the account's secrets can be in (sweep).
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
	m, merr := s.readMeta(userID)
	gens, first := s.sweep(userID, m, merr)
	for _, gen := range gens {
		for _, f := range (&Account{}).secretFields() {
			if err := s.items.del(genItemName(userID, gen, f.name)); err != nil && first == nil {
				first = err
			}
		}
	}
	// The pointer last: while it stands, a failed delete can be retried.
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

// refreshTimeout bounds a refresh, which the caller cannot cancel.
const refreshTimeout = 60 * time.Second

// AccessToken returns a valid access token for userID, refreshing it first
// when it is about to expire. The new refresh token is stored (and read
// back) before the new access token is handed out, all under the
// cross-process lock, so no two processes spend the same refresh token.
func (s *Store) AccessToken(ctx context.Context, userID string, refresh Refresher) (Secret, error) {
	var out Secret
	err := s.withLock(func() error {
		idx, err := s.listedIndex(userID)
		if err != nil {
			return err
		}
		m, err := s.readMeta(userID)
		if err != nil {
			return err
		}
		// Only the tokens: the keys and the Olm account stay in the
		// keyring (a grant asks for the token often).
		if m.AccessExpiresAt.IsZero() || s.now().Add(refreshMargin).Before(m.AccessExpiresAt) {
			out, err = s.readSecret(userID, m.Generation, "access_token")
			return err
		}
		refreshToken, err := s.readSecret(userID, m.Generation, "refresh_token")
		if err != nil {
			return err
		}
		if refreshToken == "" || refresh == nil {
			return fmt.Errorf("accounts: the access token of %s has expired and cannot be refreshed; sign in again", userID)
		}
		if idx.Schema < SchemaVersion {
			if err := s.writeIndex(idx); err != nil {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return err // nothing sent yet
		}
		// Once the request is sent, the server may rotate the refresh
		// token: a caller that gives up then must not lose the new one, so
		// the refresh and the storing of its result run to the end on their
		// own deadline.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
		defer cancel()
		access, newRefresh, exp, err := refresh(rctx, m.Meta, refreshToken)
		if err != nil {
			return err
		}
		// In place, in the current generation: each item is replaced
		// whole, and the spent refresh token must not survive a failure
		// after the new one is stored.
		if newRefresh != "" {
			if err := s.items.set(genItemName(userID, m.Generation, "refresh_token"), string(newRefresh)); err != nil {
				return err
			}
		}
		if err := s.items.set(genItemName(userID, m.Generation, "access_token"), string(access)); err != nil {
			return err
		}
		m.AccessExpiresAt = exp
		if err := s.writeMeta(m.Meta, m.Generation); err != nil {
			return err
		}
		out = access
		return nil
	})
	return out, err
}

// listedIndex reads the index and checks that it lists userID
// (ErrNotFound otherwise).
func (s *Store) listedIndex(userID string) (index, error) {
	idx, err := s.readIndex()
	if err != nil {
		return index{}, err
	}
	if !slices.Contains(idx.Accounts, userID) {
		return index{}, ErrNotFound
	}
	return idx, nil
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

func (s *Store) readMeta(userID string) (storedMeta, error) {
	m, _, err := s.readMetaRaw(userID)
	return m, err
}

// readMetaRaw is readMeta that also returns the item as stored.
func (s *Store) readMetaRaw(userID string) (storedMeta, string, error) {
	v, err := s.items.get(itemName(userID, "meta"))
	if err != nil {
		return storedMeta{}, "", err
	}
	var m storedMeta
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return storedMeta{}, v, &CorruptError{Item: itemName(userID, "meta"), Reason: "not valid JSON: " + err.Error()}
	}
	if m.Generation < 0 {
		return storedMeta{}, v, &CorruptError{Item: itemName(userID, "meta"), Reason: "a negative generation"}
	}
	return m, v, nil
}
