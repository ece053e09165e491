package accounts

import (
	"strings"
	"testing"
)

// TestSetOverAnUnreadableHeaderLeavesNoOldChunks: when the stored value
// starts like a chunk header but does not parse, its chunks cannot be
// known; a new value written over it leaves none of them behind, in any
// chunk family, and keeps its own.
func TestSetOverAnUnreadableHeaderLeavesNoOldChunks(t *testing.T) {
	const name = "account:@leo:example.org:g1:olm_pickle"
	for _, c := range []struct{ header, value string }{
		{chunkHeader + "a:3:zz", "short"},
		{chunkHeader + "a:3:zz", strings.Repeat("n", 2500)},
		{legacyChunkHeader + "many", "short"},
		{chunkMarker + "-something", "short"},
	} {
		value := c.value
		mem := NewMemoryKeyring()
		s := memoryStore(t, mem)
		for _, item := range []string{name + "#0", name + "#1", name + "#a0", name + "#a1", name + "#a2", name + "#b0", name + "#b1"} {
			_ = mem.Set(memService, item, "old secret part")
		}
		_ = mem.Set(memService, name, c.header)
		if err := s.items.set(name, value); err != nil {
			t.Fatal(err)
		}
		if got, err := s.items.get(name); err != nil || got != value {
			t.Fatalf("get = %d bytes, %v", len(got), err)
		}
		for _, n := range mem.Names(memService) {
			if n == name {
				continue
			}
			if v, _ := mem.Get(memService, n); v == "old secret part" {
				t.Errorf("%d-byte value over %q: old chunk %q left behind", len(value), c.header, n)
			}
		}
	}
}
