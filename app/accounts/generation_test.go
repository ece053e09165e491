package accounts

import (
	"strings"
	"testing"
)

// secretItems lists the stored items of user other than its meta item (and
// the index): what must be gone after a delete.
func secretItems(mem *MemoryKeyring, user string) []string {
	var out []string
	for _, n := range mem.Names(memService) {
		if strings.HasPrefix(n, "account:"+user+":") && n != itemName(user, "meta") {
			out = append(out, n)
		}
	}
	return out
}

// outsideGeneration lists user's secret items that are not in generation
// gen: what a Save must not leave behind.
func outsideGeneration(mem *MemoryKeyring, user string, gen int) []string {
	var out []string
	for _, n := range secretItems(mem, user) {
		if !strings.HasPrefix(n, genItemName(user, gen, "")) {
			out = append(out, n)
		}
	}
	return out
}

func damageMeta(t *testing.T, mem *MemoryKeyring, user string) {
	t.Helper()
	if err := mem.Set(memService, itemName(user, "meta"), `{"schema":2,"generation":`); err != nil {
		t.Fatal(err)
	}
}

// writeAtGeneration stores acct as an earlier version 2 writer did after
// gen sign-ins of the same user: the secrets under g<gen>, meta pointing
// there (docs/keyring-schema.md, "Per account").
func writeAtGeneration(t *testing.T, s *Store, acct *Account, gen int) {
	t.Helper()
	if err := s.writeSecrets(acct, gen); err != nil {
		t.Fatal(err)
	}
	if err := s.writeMeta(acct.Meta, gen); err != nil {
		t.Fatal(err)
	}
	if err := s.writeIndex(index{Accounts: []string{acct.UserID}}); err != nil {
		t.Fatal(err)
	}
}

// TestGenerationsAlternate: however often a user signs in again, the
// secrets live in generation 1 or 2, so a delete that cannot read the
// meta item still knows where they are.
func TestGenerationsAlternate(t *testing.T) {
	old, neu := oldAndNew()
	mem := NewMemoryKeyring()
	s := memoryStore(t, mem)
	for i, a := range []*Account{old, neu, old, neu, old} {
		if _, err := s.Save(a); err != nil {
			t.Fatal(err)
		}
		m, err := s.readMeta(a.UserID)
		if err != nil {
			t.Fatal(err)
		}
		if m.Generation != 1 && m.Generation != 2 {
			t.Fatalf("sign-in %d is stored in generation %d", i+1, m.Generation)
		}
		if left := outsideGeneration(mem, a.UserID, m.Generation); len(left) > 0 {
			t.Fatalf("sign-in %d left items of another generation: %q", i+1, left)
		}
	}
}

// TestDeleteWithDamagedMetaLeavesNoSecret: `logout --local` on an account
// whose meta item is damaged removes every token and key, whichever
// generation they are in: one this version writes, or a higher one an
// earlier version 2 writer left.
func TestDeleteWithDamagedMetaLeavesNoSecret(t *testing.T) {
	old, neu := oldAndNew()
	for _, c := range []struct {
		name    string
		prepare func(t *testing.T, s *Store)
	}{
		{"saved twice", func(t *testing.T, s *Store) {
			for _, a := range []*Account{old, neu} {
				if _, err := s.Save(a); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"saved three times", func(t *testing.T, s *Store) {
			for _, a := range []*Account{old, neu, old} {
				if _, err := s.Save(a); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"written at generation 7", func(t *testing.T, s *Store) { writeAtGeneration(t, s, neu, 7) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			mem := NewMemoryKeyring()
			s := memoryStore(t, mem)
			c.prepare(t, s)
			damageMeta(t, mem, neu.UserID)
			if err := s.Delete(neu.UserID); err != nil {
				t.Fatal(err)
			}
			if left := mem.Names(memService); len(left) != 1 || left[0] != indexItem {
				t.Fatalf("items left after deleting the account: %q", left)
			}
		})
	}
}

// TestSaveOverDamagedMetaLeavesNoOldSecret: signing in again over an
// account whose meta item is damaged leaves only the new sign-in's items.
func TestSaveOverDamagedMetaLeavesNoOldSecret(t *testing.T) {
	old, neu := oldAndNew()
	for _, c := range []struct {
		name    string
		prepare func(t *testing.T, s *Store)
	}{
		{"saved twice", func(t *testing.T, s *Store) {
			for _, a := range []*Account{old, old} {
				if _, err := s.Save(a); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"written at generation 5", func(t *testing.T, s *Store) { writeAtGeneration(t, s, old, 5) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			mem := NewMemoryKeyring()
			s := memoryStore(t, mem)
			c.prepare(t, s)
			damageMeta(t, mem, old.UserID)
			if _, err := s.Save(neu); err != nil {
				t.Fatal(err)
			}
			got, err := s.Load(neu.UserID)
			if err != nil || describe(got) != describe(neu) {
				t.Fatalf("Load: %v\n%s", err, describe(got))
			}
			m, _ := s.readMeta(neu.UserID)
			if left := outsideGeneration(mem, neu.UserID, m.Generation); len(left) > 0 {
				t.Fatalf("the damaged sign-in's items are still stored: %q", left)
			}
		})
	}
}

// TestHigherGenerationStillReads: an account an earlier version 2 writer
// left at a generation above 2 reads, refreshes in place, and the next
// sign-in moves it to the alternating slots, handing back its tokens and
// removing its items.
func TestHigherGenerationStillReads(t *testing.T) {
	old, neu := oldAndNew()
	mem := NewMemoryKeyring()
	s := memoryStore(t, mem)
	writeAtGeneration(t, s, old, 9)
	got, err := s.Load(old.UserID)
	if err != nil || describe(got) != describe(old) {
		t.Fatalf("Load: %v\n%s", err, describe(got))
	}
	replaced, err := s.Save(neu)
	if err != nil {
		t.Fatal(err)
	}
	if replaced == nil || replaced.AccessToken != old.AccessToken || replaced.RefreshToken != old.RefreshToken {
		t.Fatalf("replaced = %+v", replaced)
	}
	m, _ := s.readMeta(neu.UserID)
	if m.Generation != 1 && m.Generation != 2 {
		t.Fatalf("the new sign-in is in generation %d", m.Generation)
	}
	if left := outsideGeneration(mem, neu.UserID, m.Generation); len(left) > 0 {
		t.Fatalf("generation 9's items are still stored: %q", left)
	}
}
