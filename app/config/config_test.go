package config

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMissingFileGivesDefaults(t *testing.T) {
	s, err := LoadFrom(filepath.Join(t.TempDir(), "nope.json"))
	if err != nil || s.Protocol != ProtocolAuto || s.MSC4388Variant != "reference" || s.PollSpeed != PollNormal {
		t.Fatalf("got %+v, %v", s, err)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "settings.json")
	want := Settings{LastHomeserver: "matrix.org", Protocol: Protocol2024, MSC4388Variant: "msc-text", PollSpeed: PollGentle}
	if err := SaveTo(p, want); err != nil {
		t.Fatal(err)
	}
	got, err := LoadFrom(p)
	if err != nil || got != want {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestInvalidValuesRefused(t *testing.T) {
	for _, s := range []Settings{{Protocol: "x"}, {MSC4388Variant: "y"}, {PollSpeed: "z"}} {
		if err := SaveTo(filepath.Join(t.TempDir(), "s.json"), s); err == nil {
			t.Fatalf("%+v accepted", s)
		}
	}
}

func TestDamagedFileIsAClearError(t *testing.T) {
	p := filepath.Join(t.TempDir(), "settings.json")
	if err := os.WriteFile(p, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := LoadFrom(p)
	if err == nil || s.Protocol != ProtocolAuto {
		t.Fatalf("got %+v, %v", s, err)
	}
}

func TestClientIDsPersist(t *testing.T) {
	p := filepath.Join(t.TempDir(), "clients.json")
	c := ClientIDsAt(p)
	if _, ok := c.ClientID("https://auth.example.org/"); ok {
		t.Fatal("empty cache returned an ID")
	}
	if err := c.SetClientID("https://auth.example.org/", "01ABC"); err != nil {
		t.Fatal(err)
	}
	if id, ok := ClientIDsAt(p).ClientID("https://auth.example.org/"); !ok || id != "01ABC" {
		t.Fatalf("got %q %v", id, ok)
	}
}
