package ui

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/qrlogin/qrlogin/app/accounts"
	"github.com/qrlogin/qrlogin/protocol/login"
)

// TestLook writes each screen to $QRLOGIN_UI_LOOK for a person to view.
func TestLook(t *testing.T) {
	dir := os.Getenv("QRLOGIN_UI_LOOK")
	if dir == "" {
		t.Skip("set QRLOGIN_UI_LOOK")
	}
	h := newHarness(t, withAccounts(accounts.Meta{UserID: "@alice:example.org", DeviceID: "QRLOGINABC", Verified: true}), withDemo(func() {}))
	save := func(name string) {
		f, err := os.Create(filepath.Join(dir, name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := png.Encode(f, h.window.Canvas().Capture()); err != nil {
			t.Fatal(err)
		}
	}
	save("start")
	h.signInToQR("msc4108-2024")
	save("qr")
	h.emit(login.CheckCodeNeeded{})
	save("checkcode")
	h.emit(login.UserCode{UserCode: "ABCD-1234", ExpiresAt: testNow.Add(3 * time.Minute)})
	save("approve")
	h.emit(login.LoggedIn{UserID: "@alice:example.org", DeviceID: "QRLOGINABC"})
	h.emit(login.Warning{Code: "x", Message: "Your phone did not share the key backup."})
	save("encryption")
	h.emit(login.Done{UserID: "@alice:example.org", DeviceID: "QRLOGINABC", Verified: true})
	save("done")
	h.app.ShowAccounts()
	save("accounts")
	h.app.ShowSettings()
	save("settings")
	h.app.startSignIn("example.org")
	h.emit(login.Failed{Err: errTest})
	save("error")
	_ = test.NewTempApp
}
