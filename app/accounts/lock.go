package accounts

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/qrlogin/qrlogin/internal/identity"
)

// defaultLockPath is a lock file in the app's config folder (it holds no
// secret; it only serialises keyring writers across processes).
func defaultLockPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("accounts: no config folder for the lock file: %w", err)
	}
	return filepath.Join(dir, identity.AppID, "keyring.lock"), nil
}

// withLock runs fn while holding the cross-process lock.
func (s *Store) withLock(fn func() error) error {
	if err := os.MkdirAll(filepath.Dir(s.lockPath), 0o700); err != nil {
		return fmt.Errorf("accounts: cannot create the lock folder: %w", err)
	}
	f, err := os.OpenFile(s.lockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("accounts: cannot open the lock file: %w", err)
	}
	defer f.Close()
	if err := lockFile(f); err != nil {
		return fmt.Errorf("accounts: cannot lock %s: %w", s.lockPath, err)
	}
	defer unlockFile(f)
	return fn()
}
