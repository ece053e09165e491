package ui

import (
	"testing"

	"github.com/qrlogin/qrlogin/internal/identity"
)

func TestAppIconIsTheNamedSVG(t *testing.T) {
	if res := AppIcon(); res.Name() != identity.AppID+".svg" || len(res.Content()) == 0 {
		t.Fatalf("AppIcon() = %q with %d bytes", res.Name(), len(res.Content()))
	}
}
