package vocab

import "testing"

// The default order is one line; this pins today's choice so a flip is
// deliberate.
func TestAutoOrder(t *testing.T) {
	got := Auto.Order()
	if len(got) != 2 || got[0] != MSC4108v2024 || got[1] != MSC4388 {
		t.Fatalf("Auto.Order() = %v", got)
	}
}

func TestParsePreference(t *testing.T) {
	for in, want := range map[string]Preference{"": Auto, "AUTO": Auto, " msc4388 ": PreferMSC4388, "msc4108-2024": PreferMSC4108v2024} {
		if got, err := ParsePreference(in); err != nil || got != want {
			t.Errorf("ParsePreference(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParsePreference("msc4108"); err == nil {
		t.Error("ParsePreference accepted an unknown generation")
	}
	if Preference("bogus").Order() != nil {
		t.Error("an unknown preference has an order")
	}
}

func TestOther(t *testing.T) {
	if MSC4388.Other() != MSC4108v2024 || MSC4108v2024.Other() != MSC4388 {
		t.Error("Other does not swap the generations")
	}
}
