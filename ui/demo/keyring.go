package demo

import (
	"sync"

	"github.com/zalando/go-keyring"
)

// memoryKeyring is an accounts.Backend kept in memory: the demo account's
// tokens never reach the OS keyring, so they cannot mix with the user's
// real accounts and vanish with the demo.
type memoryKeyring struct {
	mu    sync.Mutex
	items map[[2]string]string
}

func newMemoryKeyring() *memoryKeyring {
	return &memoryKeyring{items: map[[2]string]string{}}
}

func (m *memoryKeyring) Set(service, user, value string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.items[[2]string{service, user}] = value
	return nil
}

// Get answers keyring.ErrNotFound for a missing item, as the real backend
// does; the account store relies on it.
func (m *memoryKeyring) Get(service, user string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.items[[2]string{service, user}]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (m *memoryKeyring) Delete(service, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := [2]string{service, user}
	if _, ok := m.items[key]; !ok {
		return keyring.ErrNotFound
	}
	delete(m.items, key)
	return nil
}
