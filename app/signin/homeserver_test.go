package signin

import (
	"errors"
	"fmt"
	"testing"

	"github.com/qrlogin/qrlogin/protocol/login"
)

func TestPhoneHomeserver(t *testing.T) {
	err := fmt.Errorf("x: %w", &login.HomeserverMismatchError{Chosen: "https://a.example", Phone: "https://b.example"})
	if got, ok := PhoneHomeserver(err); !ok || got != "https://b.example" {
		t.Errorf("PhoneHomeserver(mismatch) = %q, %v", got, ok)
	}
	for _, other := range []error{nil, errors.New("x"), login.ErrDeclined, &login.HomeserverMismatchError{Chosen: "https://a.example"}} {
		if got, ok := PhoneHomeserver(other); ok {
			t.Errorf("PhoneHomeserver(%v) = %q, want none", other, got)
		}
	}
}
