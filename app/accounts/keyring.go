package accounts

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/zalando/go-keyring"
)

// Backend is the OS keyring: the Secret Service on Linux, the Keychain on
// macOS, the Credential Manager on Windows (github.com/zalando/go-keyring).
type Backend interface {
	Set(service, user, value string) error
	Get(service, user string) (string, error)
	Delete(service, user string) error
}

// OSKeyring is the real keyring.
type OSKeyring struct{}

func (OSKeyring) Set(service, user, value string) error    { return keyring.Set(service, user, value) }
func (OSKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (OSKeyring) Delete(service, user string) error        { return keyring.Delete(service, user) }

// ErrNotFound means the keyring has no such item.
var ErrNotFound = errors.New("accounts: not found in the keyring")

// UnavailableError means the keyring itself cannot be used (no Secret
// Service, locked collection, no session bus). qrlogin never falls back to
// storing secrets in a file.
type UnavailableError struct{ Err error }

func (e *UnavailableError) Error() string {
	return "the system keyring is not available (" + e.Err.Error() + "); " +
		"install and unlock a Secret Service such as gnome-keyring or KeePassXC"
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// classify turns a go-keyring error into ErrNotFound or *UnavailableError.
// Every error other than "not found" means the keyring cannot be used
// (BUILD-AND-TEST.md section 4 lists what each situation returns).
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keyring.ErrNotFound):
		return ErrNotFound
	default:
		return &UnavailableError{Err: err}
	}
}

// maxItem keeps every stored value under Windows' 2560-byte credential
// limit (and macOS's ~3000): larger values are split into chunk items.
const maxItem = 2000

// chunkHeader marks a value that was split; the rest is the chunk count.
const chunkHeader = "qrlogin-chunks:"

// itemStore reads and writes single values, splitting large ones.
type itemStore struct {
	b       Backend
	service string
}

func (s itemStore) set(user, value string) error {
	oldChunks := s.chunkCount(user)
	n := 0
	if len(value) <= maxItem && !strings.HasPrefix(value, chunkHeader) {
		if err := s.setVerified(user, value); err != nil {
			return err
		}
	} else {
		n = (len(value) + maxItem - 1) / maxItem
		for i := 0; i < n; i++ {
			end := min((i+1)*maxItem, len(value))
			if err := s.setVerified(chunkName(user, i), value[i*maxItem:end]); err != nil {
				return err
			}
		}
		if err := s.setVerified(user, chunkHeader+strconv.Itoa(n)); err != nil {
			return err
		}
	}
	// A shorter value must not leave pieces of the old secret behind.
	for i := n; i < oldChunks; i++ {
		if err := classify(s.b.Delete(s.service, chunkName(user, i))); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// chunkCount is how many chunk items the stored value of user has (0 when
// it is stored whole or not at all).
func (s itemStore) chunkCount(user string) int {
	v, err := s.b.Get(s.service, user)
	if err != nil || !strings.HasPrefix(v, chunkHeader) {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimPrefix(v, chunkHeader))
	if err != nil || n < 0 || n > 64 {
		return 0
	}
	return n
}

// setVerified writes one item and reads it back: a keyring that accepts a
// write but loses it must not leave us believing the account is stored.
func (s itemStore) setVerified(user, value string) error {
	if err := classify(s.b.Set(s.service, user, value)); err != nil {
		return err
	}
	got, err := s.b.Get(s.service, user)
	if err := classify(err); err != nil {
		return err
	}
	if got != value {
		return &UnavailableError{Err: fmt.Errorf("item %q did not read back as written", user)}
	}
	return nil
}

func (s itemStore) get(user string) (string, error) {
	v, err := s.b.Get(s.service, user)
	if err := classify(err); err != nil {
		return "", err
	}
	if !strings.HasPrefix(v, chunkHeader) {
		return v, nil
	}
	n, err := strconv.Atoi(strings.TrimPrefix(v, chunkHeader))
	if err != nil || n < 1 || n > 64 {
		return "", fmt.Errorf("accounts: item %q has a corrupt chunk header", user)
	}
	var b strings.Builder
	for i := 0; i < n; i++ {
		part, err := s.b.Get(s.service, chunkName(user, i))
		if err := classify(err); err != nil {
			return "", err
		}
		b.WriteString(part)
	}
	return b.String(), nil
}

// del removes an item and its chunks; a missing item is not an error.
func (s itemStore) del(user string) error {
	v, err := s.b.Get(s.service, user)
	if err := classify(err); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	}
	if strings.HasPrefix(v, chunkHeader) {
		n := s.chunkCount(user)
		for i := 0; i < n; i++ {
			if err := classify(s.b.Delete(s.service, chunkName(user, i))); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
	}
	if err := classify(s.b.Delete(s.service, user)); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

func chunkName(user string, i int) string { return user + "#" + strconv.Itoa(i) }
