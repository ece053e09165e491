package rendezvous_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/rendezvous/server"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// The choice against qrlogin's own rendezvous server (server.New)
// configured as each kind of homeserver.
func TestChooseAgainstServer(t *testing.T) {
	cases := []struct {
		name     string
		cfg      server.Config
		explicit bool
		want     vocab.Generation
		wantErr  error
	}{
		{"both, /versions advertises 2024", server.Config{ServeVersions: true}, false, vocab.MSC4108v2024, nil},
		{"no /versions flag, MSC4388 open", server.Config{}, false, vocab.MSC4388, nil},
		{"2024 off, MSC4388 open", server.Config{DisableETag: true}, false, vocab.MSC4388, nil},
		{"MSC4388 off, no flag", server.Config{Mode: server.ModeOff}, false, "", rendezvous.ErrNotEnabled},
		{"explicit server with both", server.Config{}, true, vocab.MSC4108v2024, nil},
		{"explicit server, 2024 off", server.Config{DisableETag: true}, true, vocab.MSC4388, nil},
		{"explicit server, both off", server.Config{DisableETag: true, Mode: server.ModeOff}, true, "", rendezvous.ErrNotEnabled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			rv := server.New(tc.cfg)
			t.Cleanup(rv.Close)
			srv := httptest.NewServer(rv)
			t.Cleanup(srv.Close)
			opts := rendezvous.ChooseOptions{HomeserverURL: srv.URL}
			if tc.explicit {
				opts = rendezvous.ChooseOptions{HomeserverURL: "https://matrix.example.org", RendezvousServerURL: srv.URL}
			}
			got, err := rendezvous.Choose(ctx, vocab.Auto, opts)
			if got.Generation != tc.want || !errors.Is(err, tc.wantErr) {
				t.Fatalf("Choose = %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
			var ue *rendezvous.UnsupportedError
			if tc.wantErr != nil && (!errors.As(err, &ue) || !strings.HasPrefix(err.Error(), strings.TrimPrefix(srv.URL, "http://"))) {
				t.Fatalf("error %q does not name the server", err)
			}
		})
	}
}
