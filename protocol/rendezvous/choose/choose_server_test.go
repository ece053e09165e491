package choose

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// The choice against qrlogin's own rendezvous server (rendezvous.NewServer)
// configured as each kind of homeserver.
func TestChooseAgainstServer(t *testing.T) {
	cases := []struct {
		name     string
		cfg      rendezvous.ServerConfig
		explicit bool
		want     vocab.Generation
		wantErr  error
	}{
		{"both, /versions advertises 2024", rendezvous.ServerConfig{ServeVersions: true}, false, vocab.MSC4108v2024, nil},
		{"no /versions flag, MSC4388 open", rendezvous.ServerConfig{}, false, vocab.MSC4388, nil},
		{"2024 off, MSC4388 open", rendezvous.ServerConfig{DisableETag: true}, false, vocab.MSC4388, nil},
		{"MSC4388 off, no flag", rendezvous.ServerConfig{Mode: rendezvous.ModeOff}, false, "", rendezvous.ErrNotEnabled},
		{"explicit server with both", rendezvous.ServerConfig{}, true, vocab.MSC4108v2024, nil},
		{"explicit server, 2024 off", rendezvous.ServerConfig{DisableETag: true}, true, vocab.MSC4388, nil},
		{"explicit server, both off", rendezvous.ServerConfig{DisableETag: true, Mode: rendezvous.ModeOff}, true, "", rendezvous.ErrNotEnabled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rv := rendezvous.NewServer(tc.cfg)
			t.Cleanup(rv.Close)
			srv := httptest.NewServer(rv)
			t.Cleanup(srv.Close)
			opts := Options{HomeserverURL: srv.URL}
			if tc.explicit {
				opts = Options{HomeserverURL: "https://matrix.example.org", RendezvousServerURL: srv.URL}
			}
			got, err := Choose(ctx(t), vocab.Auto, opts)
			if got != tc.want || !errors.Is(err, tc.wantErr) {
				t.Fatalf("Choose = %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
			var ue *UnsupportedError
			if tc.wantErr != nil && (!errors.As(err, &ue) || !strings.HasPrefix(err.Error(), strings.TrimPrefix(srv.URL, "http://"))) {
				t.Fatalf("error %q does not name the server", err)
			}
		})
	}
}
