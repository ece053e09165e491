package choose

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// homeserver fakes what the probes read: /versions and the MSC4388
// discovery endpoint (REFERENCE-IMPLEMENTATIONS.md 2 and 3.1).
type homeserver struct {
	msc4108    bool
	msc4388    string // "off", "open", "authenticated", "closed" (create_available false)
	create2024 bool   // serves the 2024 create endpoint (standalone server)
	token      string
}

func (h *homeserver) start(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		j := func(status int, v any) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(v)
		}
		switch {
		case r.URL.Path == "/_matrix/client/versions":
			j(200, map[string]any{"versions": []string{"v1.11"},
				"unstable_features": map[string]bool{"org.matrix.msc4108": h.msc4108}})
		case r.URL.Path == string(rendezvous.PathUnstable) && r.Method == http.MethodGet:
			switch h.msc4388 {
			case "open":
				j(200, map[string]bool{"create_available": true})
			case "closed":
				j(200, map[string]bool{"create_available": false})
			case "authenticated":
				if r.Header.Get("Authorization") == "Bearer "+h.token && h.token != "" {
					j(200, map[string]bool{"create_available": true})
					return
				}
				j(401, map[string]string{"errcode": "M_MISSING_TOKEN", "error": "Missing token"})
			default:
				j(404, map[string]string{"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"})
			}
		case r.URL.Path == rendezvous.Path2024 && r.Method == http.MethodPost && h.create2024:
			w.Header().Set("ETag", `"x"`)
			j(201, map[string]string{"url": "http://" + r.Host + "/s/1"})
		case r.URL.Path == "/s/1" && r.Method == http.MethodDelete:
			w.WriteHeader(204)
		default:
			j(404, map[string]string{"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"})
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestChoose(t *testing.T) {
	cases := []struct {
		name    string
		hs      homeserver
		pref    vocab.Preference
		token   rendezvous.BearerToken
		want    vocab.Generation
		wantErr error
		msg     string
	}{
		{"both offered, auto prefers 2024", homeserver{msc4108: true, msc4388: "open"}, vocab.Auto, "", vocab.MSC4108v2024, nil, ""},
		{"only 2024", homeserver{msc4108: true}, vocab.Auto, "", vocab.MSC4108v2024, nil, ""},
		{"only MSC4388", homeserver{msc4388: "open"}, vocab.Auto, "", vocab.MSC4388, nil, ""},
		{"MSC4388 asked for", homeserver{msc4108: true, msc4388: "open"}, vocab.PreferMSC4388, "", vocab.MSC4388, nil, ""},
		{"2024 asked for", homeserver{msc4108: true, msc4388: "open"}, vocab.PreferMSC4108v2024, "", vocab.MSC4108v2024, nil, ""},
		{"authenticated with token", homeserver{msc4388: "authenticated", token: "t0k"}, vocab.Auto, "t0k", vocab.MSC4388, nil, ""},
		{"authenticated without token", homeserver{msc4388: "authenticated", token: "t0k"}, vocab.Auto, "", "", rendezvous.ErrNeedsAccount,
			"allows sign-in with QR only from devices that are already signed in"},
		{"create_available false", homeserver{msc4388: "closed"}, vocab.Auto, "", "", rendezvous.ErrNeedsAccount,
			"allows sign-in with QR only from devices that are already signed in"},
		{"nothing", homeserver{}, vocab.Auto, "", "", rendezvous.ErrNotEnabled, "does not offer sign-in with QR"},
		{"MSC4388 asked, only 2024", homeserver{msc4108: true}, vocab.PreferMSC4388, "", "", rendezvous.ErrNotEnabled, "MSC4388"},
		{"2024 asked, only MSC4388", homeserver{msc4388: "open"}, vocab.PreferMSC4108v2024, "", "", rendezvous.ErrNotEnabled, "org.matrix.msc4108"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.hs.start(t)
			got, err := Choose(ctx(t), tc.pref, Options{HomeserverURL: srv.URL, AccessToken: tc.token})
			if got != tc.want || !errors.Is(err, tc.wantErr) {
				t.Fatalf("Choose = %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
			if tc.wantErr != nil {
				var ue *UnsupportedError
				host := strings.TrimPrefix(srv.URL, "http://")
				if !errors.As(err, &ue) || !strings.HasPrefix(err.Error(), host+" ") || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("error %q: want an *UnsupportedError naming %s and saying %q", err, host, tc.msg)
				}
			}
		})
	}
}

func TestChooseExplicitServer(t *testing.T) {
	standalone := (&homeserver{create2024: true}).start(t)
	got, err := Choose(ctx(t), vocab.Auto, Options{HomeserverURL: "https://matrix.example.org", RendezvousServerURL: standalone.URL})
	if err != nil || got != vocab.MSC4108v2024 {
		t.Fatalf("Choose with a 2024 standalone server = %q, %v", got, err)
	}
	ours := (&homeserver{msc4388: "open"}).start(t)
	got, err = Choose(ctx(t), vocab.Auto, Options{RendezvousServerURL: ours.URL})
	if err != nil || got != vocab.MSC4388 {
		t.Fatalf("Choose with an MSC4388 rendezvous server = %q, %v", got, err)
	}
}

func TestChooseNetworkFailureIsNotUnsupported(t *testing.T) {
	srv := (&homeserver{}).start(t)
	srv.Close()
	_, err := Choose(ctx(t), vocab.Auto, Options{HomeserverURL: srv.URL})
	var ue *UnsupportedError
	if err == nil || errors.As(err, &ue) || !errors.Is(err, rendezvous.ErrNetwork) {
		t.Fatalf("Choose with the server down: %v", err)
	}
}

func TestChooseInsecure(t *testing.T) {
	if _, err := Choose(ctx(t), vocab.Auto, Options{HomeserverURL: "http://matrix.example.org"}); !errors.Is(err, rendezvous.ErrInsecureURL) {
		t.Fatalf("Choose over plain http: %v", err)
	}
}

func TestParsePreference(t *testing.T) {
	for in, want := range map[string]vocab.Preference{"": vocab.Auto, "auto": vocab.Auto, "MSC4388": vocab.PreferMSC4388, " msc4108-2024 ": vocab.PreferMSC4108v2024} {
		if got, err := vocab.ParsePreference(in); err != nil || got != want {
			t.Errorf("ParsePreference(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := vocab.ParsePreference("msc4108"); err == nil {
		t.Error("ParsePreference accepted msc4108")
	}
	if _, err := Choose(context.Background(), "bogus", Options{HomeserverURL: "https://x"}); err == nil {
		t.Error("Choose accepted a bogus preference")
	}
}
