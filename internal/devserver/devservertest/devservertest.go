// Package devservertest runs the development homeserver for tests, the
// way net/http/httptest runs servers: on a free port of 127.0.0.1, until
// the test ends.
package devservertest

import (
	"context"
	"testing"

	"github.com/qrlogin/qrlogin/internal/devserver"
)

// Start runs a dev homeserver with cfg on 127.0.0.1 and closes it when tb
// ends. A server that cannot start fails tb.
func Start(tb testing.TB, cfg devserver.Config) *devserver.Server {
	tb.Helper()
	srv, err := devserver.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(func() { cancel(); _ = srv.Close() })
	if err := srv.Start(ctx, "127.0.0.1:0"); err != nil {
		tb.Fatal(err)
	}
	return srv
}
