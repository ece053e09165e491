package harness

import (
	"crypto/rand"
	"errors"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/qrlogin/qrlogin/internal/identity"
)

// TestSecretServiceRoundTrip stores, overwrites, reads and deletes a secret
// through go-keyring and the real Secret Service (gnome-keyring), the path
// the app's account store takes on Linux.
func TestSecretServiceRoundTrip(t *testing.T) {
	RequireSecretService(t)
	service := identity.AppID + ".harness-test"
	user := "harness-" + rand.Text()
	t.Cleanup(func() { _ = keyring.Delete(service, user) })

	if _, err := keyring.Get(service, user); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("Get before Set: err = %v, want ErrNotFound", err)
	}
	for _, secret := range []string{"first secret", "second secret, ünïcode, " + rand.Text()} {
		if err := keyring.Set(service, user, secret); err != nil {
			t.Fatalf("Set: %v", err)
		}
		got, err := keyring.Get(service, user)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if got != secret {
			t.Fatalf("Get = %q, want %q", got, secret)
		}
	}
	if err := keyring.Delete(service, user); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := keyring.Get(service, user); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("Get after Delete: err = %v, want ErrNotFound", err)
	}
}
