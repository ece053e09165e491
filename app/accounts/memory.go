package accounts

import (
	"sort"
	"sync"

	"github.com/zalando/go-keyring"
)

// MemoryKeyring is a Backend kept in memory, for demos and tests that must
// not touch the user's keyring. It answers like go-keyring does (a missing
// item is keyring.ErrNotFound, on Get and on Delete), which the store
// relies on.
type MemoryKeyring struct {
	mu    sync.Mutex
	items map[[2]string]string
}

// NewMemoryKeyring returns an empty in-memory keyring.
func NewMemoryKeyring() *MemoryKeyring {
	return &MemoryKeyring{items: map[[2]string]string{}}
}

func (m *MemoryKeyring) Set(service, user, value string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.items[[2]string{service, user}] = value
	return nil
}

func (m *MemoryKeyring) Get(service, user string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.items[[2]string{service, user}]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (m *MemoryKeyring) Delete(service, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := [2]string{service, user}
	if _, ok := m.items[key]; !ok {
		return keyring.ErrNotFound
	}
	delete(m.items, key)
	return nil
}

// Names lists the item names stored under service, sorted (tests use it to
// find items left behind).
func (m *MemoryKeyring) Names(service string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.items {
		if k[0] == service {
			out = append(out, k[1])
		}
	}
	sort.Strings(out)
	return out
}
