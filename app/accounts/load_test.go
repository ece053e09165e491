package accounts

import (
	"strings"
	"sync"
	"testing"
)

// hookBackend runs hook once, just before the first read of an item whose
// name contains at.
type hookBackend struct {
	Backend
	at   string
	once sync.Once
	hook func()
}

func (h *hookBackend) Get(service, user string) (string, error) {
	if strings.Contains(user, h.at) {
		h.once.Do(h.hook)
	}
	return h.Backend.Get(service, user)
}

// TestLoadDuringASaveReadsOneSignInWhole: Load takes no lock, so another
// process may sign the user in again while it reads; the result is one
// sign-in whole, never the old one with the secrets Save deleted missing.
func TestLoadDuringASaveReadsOneSignInWhole(t *testing.T) {
	old, neu := oldAndNew()
	for _, at := range []string{":olm_pickle#", ":master_key", ":backup_key"} {
		t.Run(at, func(t *testing.T) {
			mem := NewMemoryKeyring()
			writer := memoryStore(t, mem)
			if _, err := writer.Save(old); err != nil {
				t.Fatal(err)
			}
			hb := &hookBackend{Backend: mem, at: at, hook: func() {
				if _, err := writer.Save(neu); err != nil {
					t.Error(err)
				}
			}}
			reader := newWithService(hb, memService, writer.lockPath)
			got, err := reader.Load(neu.UserID)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if d := describe(got); d != describe(neu) && d != describe(old) {
				t.Fatalf("Load returned neither sign-in whole: device %s, master key %d bytes, backup key %d bytes",
					got.DeviceID, len(got.MasterKey), len(got.BackupKey))
			}
		})
	}
}

// countHookBackend runs hook before each of the first n reads of an item
// whose name contains at.
type countHookBackend struct {
	Backend
	at   string
	n    int
	hook func()
}

func (h *countHookBackend) Get(service, user string) (string, error) {
	if strings.Contains(user, h.at) && h.n > 0 {
		h.n--
		h.hook()
	}
	return h.Backend.Get(service, user)
}

// TestLoadDuringRepeatedSavesEndsUnderTheLock: when the account switches
// under every unlocked read, Load reads it once more holding the lock.
func TestLoadDuringRepeatedSavesEndsUnderTheLock(t *testing.T) {
	old, neu := oldAndNew()
	mem := NewMemoryKeyring()
	writer := memoryStore(t, mem)
	if _, err := writer.Save(old); err != nil {
		t.Fatal(err)
	}
	next := []*Account{neu, old, neu}
	hb := &countHookBackend{Backend: mem, at: ":master_key", n: loadAttempts, hook: func() {
		a := next[0]
		next = next[1:]
		if _, err := writer.Save(a); err != nil {
			t.Error(err)
		}
	}}
	got, err := newWithService(hb, memService, writer.lockPath).Load(neu.UserID)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if describe(got) != describe(neu) {
		t.Fatalf("Load returned device %s, master key %d bytes; want the last sign-in whole", got.DeviceID, len(got.MasterKey))
	}
}
