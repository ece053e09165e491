package matrix_test

// End-to-end tests of the new device's path after the secure channel is up
// (docs/protocol-divergences.md "New-device flow") against the development
// homeserver that imitates Synapse + MAS (internal/devserver).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/internal/devserver/devservertest"
	"github.com/qrlogin/qrlogin/protocol/matrix"
	"github.com/qrlogin/qrlogin/protocol/oauth"
)

// signIn runs discovery, registration, device authorization and polling;
// the fake user approves during the first wait.
func signIn(t *testing.T, srv *devserver.Server, deviceID string) (*oauth.Client, *oauth.Token) {
	t.Helper()
	ctx := context.Background()
	meta, err := oauth.Discover(ctx, nil, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	id, err := oauth.ClientIDFor(ctx, nil, meta, &oauth.MemoryCache{})
	if err != nil {
		t.Fatal(err)
	}
	c := &oauth.Client{Metadata: meta, ClientID: id}
	scopes, _ := oauth.Scopes(deviceID, false)
	da, err := c.StartDeviceAuthorization(ctx, scopes)
	if err != nil {
		t.Fatal(err)
	}
	approved := false
	p := &oauth.Poller{Client: c, Sleep: func(ctx context.Context, d time.Duration) error {
		if !approved {
			approved = true
			return srv.Approve(da.UserCode)
		}
		return nil
	}}
	tok, err := p.Poll(ctx, da)
	if err != nil {
		t.Fatal(err)
	}
	return c, tok
}

// secretsMessage is what the scripted phone sends
// (docs/protocol-divergences.md "m.login.secrets").
func secretsMessage(t *testing.T, srv *devserver.Server, replaceSelfSigning bool) []byte {
	t.Helper()
	as, err := srv.AccountSecrets()
	if err != nil {
		t.Fatal(err)
	}
	msg := map[string]any{
		"type": "m.login.secrets",
		"cross_signing": map[string]string{
			"master_key":       as.MasterKey.Reveal(),
			"self_signing_key": as.SelfSigningKey.Reveal(),
			"user_signing_key": as.UserSigningKey.Reveal(),
		},
	}
	if replaceSelfSigning {
		msg["cross_signing"].(map[string]string)["self_signing_key"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	}
	if as.HasBackup() {
		msg["backup"] = map[string]string{"algorithm": as.BackupAlgorithm, "key": as.BackupKey.Reveal(), "backup_version": as.BackupVersion}
	}
	b, _ := json.Marshal(msg)
	return b
}

func TestNewDeviceEndToEndWithDevServer(t *testing.T) {
	srv := devservertest.Start(t, devserver.Config{})
	ctx := context.Background()
	deviceID := oauth.NewDeviceID()
	oc, tok := signIn(t, srv, deviceID)

	mc := matrix.NewClient(nil, srv.URL(), tok.AccessToken)
	who, err := mc.Whoami(ctx)
	if err != nil || who.UserID != srv.UserID() || who.DeviceID != deviceID {
		t.Fatalf("whoami %+v %v", who, err)
	}
	// MAS creates the device at exchange time (docs/protocol-divergences.md
	// "Token polling").
	if _, err := mc.Device(ctx, deviceID); err != nil {
		t.Fatal(err)
	}
	if _, err := mc.Device(ctx, "NOSUCHDEVICE"); !matrix.IsNotFound(err) {
		t.Fatalf("got %v", err)
	}

	secrets, err := matrix.ParseSecrets(secretsMessage(t, srv, false))
	if err != nil {
		t.Fatal(err)
	}
	defer secrets.Zero()
	q, err := mc.QueryKeys(ctx, who.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if err := matrix.VerifyCrossSigning(secrets, who.UserID, q); err != nil {
		t.Fatal(err)
	}
	backup, err := mc.RoomKeysVersion(ctx)
	if err != nil || backup == nil {
		t.Fatal(backup, err)
	}
	if err := matrix.VerifyBackup(secrets.Backup, backup); err != nil {
		t.Fatal(err)
	}

	dev, err := matrix.NewDeviceIdentity(who.UserID, deviceID)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Zero()
	up, err := dev.KeysUpload(secrets.SelfSigningKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mc.UploadKeys(ctx, up); err != nil {
		t.Fatal(err)
	}
	dev.MarkPublished()
	info, ok := srv.Device(deviceID)
	if !ok || !info.SelfSigned || !info.CrossSigned {
		t.Fatalf("server sees the device as %+v", info)
	}
	q, err = mc.QueryKeys(ctx, who.UserID)
	if err != nil {
		t.Fatal(err)
	}
	ed, _ := dev.IdentityKeys()
	if q.DeviceKeys[who.UserID][deviceID].Keys["ed25519:"+deviceID] != ed {
		t.Fatalf("our device keys are not published: %+v", q.DeviceKeys)
	}

	// Refresh rotation: save the new refresh token first, then use the new
	// access token; the old pair is dead.
	next, err := oc.Refresh(ctx, tok.RefreshToken)
	if err != nil || next.RefreshToken == tok.RefreshToken {
		t.Fatal(next, err)
	}
	var me *matrix.Error
	if _, err := mc.Whoami(ctx); !errors.As(err, &me) || me.Status != 401 {
		t.Fatalf("old access token still works: %v", err)
	}
	if _, err := oc.Refresh(ctx, tok.RefreshToken); err == nil {
		t.Fatal("old refresh token still works")
	}
	mc.SetAccessToken(next.AccessToken)
	if _, err := mc.Whoami(ctx); err != nil {
		t.Fatal(err)
	}

	// 429 with retry_after_ms is retried.
	if err := srv.InjectFault(devserver.Fault{PathPrefix: "/_matrix/client/v3/account/whoami", Count: 2, Status: 429, RetryAfter: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if _, err := mc.Whoami(ctx); err != nil {
		t.Fatalf("429 not retried: %v", err)
	}

	// Sign out: revoking the access token ends the session.
	if err := oc.Revoke(ctx, next.AccessToken, oauth.HintAccessToken); err != nil {
		t.Fatal(err)
	}
	if _, err := mc.Whoami(ctx); !errors.As(err, &me) || me.Status != 401 {
		t.Fatalf("revoked token still works: %v", err)
	}
}

func TestWrongSecretsAreCaughtWithDevServer(t *testing.T) {
	srv := devservertest.Start(t, devserver.Config{NoBackup: true})
	ctx := context.Background()
	_, tok := signIn(t, srv, oauth.NewDeviceID())
	mc := matrix.NewClient(nil, srv.URL(), tok.AccessToken)
	secrets, err := matrix.ParseSecrets(secretsMessage(t, srv, true))
	if err != nil {
		t.Fatal(err)
	}
	q, err := mc.QueryKeys(ctx, srv.UserID())
	if err != nil {
		t.Fatal(err)
	}
	var km *matrix.KeyMismatchError
	if err := matrix.VerifyCrossSigning(secrets, srv.UserID(), q); !errors.As(err, &km) || km.Key != "self_signing" {
		t.Fatalf("got %v, want a self_signing mismatch", err)
	}
	if secrets.Backup != nil {
		t.Fatal("no backup was shared")
	}
	if v, err := mc.RoomKeysVersion(ctx); v != nil || err != nil {
		t.Fatalf("server without backup: %v %v", v, err)
	}
	_ = fmt.Sprint(secrets) // must not panic
}
