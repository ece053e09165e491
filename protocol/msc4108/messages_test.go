package msc4108

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestTypeOf(t *testing.T) {
	for in, want := range map[string]string{
		`{"type":"m.login.protocols","protocols":[]}`: TypeProtocols,
		`{"type":"x.unknown"}`:                        "x.unknown",
	} {
		if got, err := TypeOf([]byte(in)); err != nil || got != want {
			t.Errorf("TypeOf(%s) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{``, `[]`, `{}`, `{"type":1}`, `{"type":""}`, `"m.login.success"`, `{"type":"m.login.success"` + strings.Repeat(" ", MaxMessage) + `}`} {
		if _, err := TypeOf([]byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("TypeOf(%.40q) error = %v, want ErrMalformed", in, err)
		}
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	s := Secrets{Type: TypeSecrets, CrossSigning: CrossSigningSecret{MasterKey: "SEEDSEED"}}
	if out := fmt.Sprintf("%v %+v %#v %s", s, s, s, s); strings.Contains(out, "SEEDSEED") {
		t.Fatal(out)
	}
}

func FuzzTypeOf(f *testing.F) {
	f.Add([]byte(`{"type":"m.login.protocols"}`))
	f.Add([]byte(`{"type":`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		typ, err := TypeOf(raw)
		if err == nil && typ == "" {
			t.Fatal("empty type accepted")
		}
	})
}
