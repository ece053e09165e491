package rendezvous

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// The choice against qrlogin's own rendezvous server (NewServer)
// configured as each kind of chooseHomeserver.
func TestChooseAgainstServer(t *testing.T) {
	cases := []struct {
		name     string
		cfg      ServerConfig
		explicit bool
		want     vocab.Generation
		wantErr  error
	}{
		{"both, /versions advertises 2024", ServerConfig{ServeVersions: true}, false, vocab.MSC4108v2024, nil},
		{"no /versions flag, MSC4388 open", ServerConfig{}, false, vocab.MSC4388, nil},
		{"2024 off, MSC4388 open", ServerConfig{DisableETag: true}, false, vocab.MSC4388, nil},
		{"MSC4388 off, no flag", ServerConfig{Mode: ModeOff}, false, "", ErrNotEnabled},
		{"explicit server with both", ServerConfig{}, true, vocab.MSC4108v2024, nil},
		{"explicit server, 2024 off", ServerConfig{DisableETag: true}, true, vocab.MSC4388, nil},
		{"explicit server, both off", ServerConfig{DisableETag: true, Mode: ModeOff}, true, "", ErrNotEnabled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rv := NewServer(tc.cfg)
			t.Cleanup(rv.Close)
			srv := httptest.NewServer(rv)
			t.Cleanup(srv.Close)
			opts := ChooseOptions{HomeserverURL: srv.URL}
			if tc.explicit {
				opts = ChooseOptions{HomeserverURL: "https://matrix.example.org", RendezvousServerURL: srv.URL}
			}
			got, err := Choose(chooseCtx(t), vocab.Auto, opts)
			if got.Generation != tc.want || !errors.Is(err, tc.wantErr) {
				t.Fatalf("Choose = %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
			var ue *UnsupportedError
			if tc.wantErr != nil && (!errors.As(err, &ue) || !strings.HasPrefix(err.Error(), strings.TrimPrefix(srv.URL, "http://"))) {
				t.Fatalf("error %q does not name the server", err)
			}
		})
	}
}
