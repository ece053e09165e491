package devserver_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/protocol/matrix"
)

// TestMatrixPackageInterop drives the dev server with the new device's own
// C-S code (protocol/matrix, written independently): the secrets the
// scripted phone would send verify against the published keys, and the
// device keys it uploads with the self-signing signature are seen as
// cross-signed (MSC4108 "Secret sharing and device verification").
func TestMatrixPackageInterop(t *testing.T) {
	srv, err := devserver.New(devserver.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Start(ctx, "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	const deviceID = "INTEROPDEV1"
	tokens, err := srv.LoginDevice(deviceID)
	if err != nil {
		t.Fatal(err)
	}
	client := matrix.NewClient(nil, srv.URL(), tokens.AccessToken.Reveal())
	who, err := client.Whoami(ctx)
	if err != nil {
		t.Fatalf("Whoami: %v", err)
	}
	if who.UserID != srv.UserID() || who.DeviceID != deviceID {
		t.Fatalf("whoami %+v", who)
	}

	// The m.login.secrets message the scripted phone will send.
	acct, err := srv.AccountSecrets()
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := json.Marshal(map[string]any{
		"type": "m.login.secrets",
		"cross_signing": map[string]string{
			"master_key":       acct.MasterKey.Reveal(),
			"self_signing_key": acct.SelfSigningKey.Reveal(),
			"user_signing_key": acct.UserSigningKey.Reveal(),
		},
		"backup": map[string]string{
			"algorithm": acct.BackupAlgorithm, "key": acct.BackupKey.Reveal(), "backup_version": acct.BackupVersion,
		},
	})
	secrets, err := matrix.ParseSecrets(msg)
	if err != nil {
		t.Fatalf("ParseSecrets: %v", err)
	}
	defer secrets.Zero()

	keys, err := client.QueryKeys(ctx, srv.UserID())
	if err != nil {
		t.Fatalf("QueryKeys: %v", err)
	}
	if err := matrix.VerifyCrossSigning(secrets, srv.UserID(), keys); err != nil {
		t.Fatalf("VerifyCrossSigning: %v", err)
	}
	backup, err := client.RoomKeysVersion(ctx)
	if err != nil || backup == nil {
		t.Fatalf("RoomKeysVersion: %v %v", backup, err)
	}
	if err := matrix.VerifyBackup(secrets.Backup, backup); err != nil {
		t.Fatalf("VerifyBackup: %v", err)
	}

	id, err := matrix.NewDeviceIdentity(srv.UserID(), deviceID)
	if err != nil {
		t.Fatal(err)
	}
	defer id.Zero()
	upload, err := id.KeysUpload(secrets.SelfSigningKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.UploadKeys(ctx, upload); err != nil {
		t.Fatalf("UploadKeys: %v", err)
	}
	info, ok := srv.Device(deviceID)
	if !ok || !info.SelfSigned || !info.CrossSigned {
		t.Fatalf("uploaded device %+v", info)
	}
	if _, err := client.Device(ctx, deviceID); err != nil {
		t.Fatalf("Device: %v", err)
	}
	if _, err := client.Device(ctx, "NOSUCHDEVICE"); !matrix.IsNotFound(err) {
		t.Fatalf("missing device: %v", err)
	}
}
