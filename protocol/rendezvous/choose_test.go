package rendezvous

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// chooseHomeserver fakes what the probes read: /versions and the MSC4388
// discovery endpoint (MSC4108 "Discoverability of the capability", MSC4388
// "GET /_matrix/client/v1/rendezvous"). It counts the requests it serves.
type chooseHomeserver struct {
	msc4108    bool
	msc4388    string // "off", "open", "authenticated", "closed" (create_available false)
	create2024 bool   // serves the 2024 create endpoint (standalone server)
	token      string

	mu   *sync.Mutex
	hits map[string]int // "METHOD path" -> requests
}

// requests reports how often "METHOD path" was asked for.
func (h *chooseHomeserver) requests(methodPath string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits[methodPath]
}

func (h *chooseHomeserver) start(t *testing.T) *httptest.Server {
	h.mu, h.hits = new(sync.Mutex), map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.hits[r.Method+" "+r.URL.Path]++
		h.mu.Unlock()
		j := func(status int, v any) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(v)
		}
		switch {
		case r.URL.Path == "/_matrix/client/versions":
			j(200, map[string]any{"versions": []string{"v1.11"},
				"unstable_features": map[string]bool{"org.matrix.msc4108": h.msc4108}})
		case r.URL.Path == string(PathUnstable) && r.Method == http.MethodGet:
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
		case r.URL.Path == Path2024 && r.Method == http.MethodPost && h.create2024:
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

func chooseCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestChoose(t *testing.T) {
	const (
		g24  = vocab.MSC4108v2024
		g88  = vocab.MSC4388
		auto = vocab.Auto
	)
	cases := []struct {
		name    string
		hs      chooseHomeserver
		pref    vocab.Preference
		token   BearerToken
		want    []vocab.Generation // Choice.Offered; its first is Choice.Generation
		wantErr error
		msg     string
	}{
		{"both offered, auto prefers 2024", chooseHomeserver{msc4108: true, msc4388: "open"}, auto, "", []vocab.Generation{g24, g88}, nil, ""},
		{"only 2024", chooseHomeserver{msc4108: true}, auto, "", []vocab.Generation{g24}, nil, ""},
		{"only MSC4388", chooseHomeserver{msc4388: "open"}, auto, "", []vocab.Generation{g88}, nil, ""},
		{"MSC4388 asked for", chooseHomeserver{msc4108: true, msc4388: "open"}, vocab.PreferMSC4388, "", []vocab.Generation{g88, g24}, nil, ""},
		{"2024 asked for", chooseHomeserver{msc4108: true, msc4388: "open"}, vocab.PreferMSC4108v2024, "", []vocab.Generation{g24, g88}, nil, ""},
		{"MSC4388 asked for, no 2024", chooseHomeserver{msc4388: "open"}, vocab.PreferMSC4388, "", []vocab.Generation{g88}, nil, ""},
		{"authenticated with token", chooseHomeserver{msc4388: "authenticated", token: "t0k"}, auto, "t0k", []vocab.Generation{g88}, nil, ""},
		{"authenticated without token", chooseHomeserver{msc4388: "authenticated", token: "t0k"}, auto, "", nil, ErrNeedsAccount,
			"allows sign-in with QR only from devices that are already signed in"},
		{"create_available false", chooseHomeserver{msc4388: "closed"}, auto, "", nil, ErrNeedsAccount,
			"allows sign-in with QR only from devices that are already signed in"},
		{"nothing", chooseHomeserver{}, auto, "", nil, ErrNotEnabled, "does not offer sign-in with QR"},
		{"MSC4388 asked, only 2024", chooseHomeserver{msc4108: true}, vocab.PreferMSC4388, "", nil, ErrNotEnabled, "MSC4388"},
		{"2024 asked, only MSC4388", chooseHomeserver{msc4388: "open"}, vocab.PreferMSC4108v2024, "", nil, ErrNotEnabled, "org.matrix.msc4108"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.hs.start(t)
			got, err := Choose(chooseCtx(t), tc.pref, ChooseOptions{HomeserverURL: srv.URL, AccessToken: tc.token})
			if !slices.Equal(got.Offered, tc.want) || !errors.Is(err, tc.wantErr) {
				t.Fatalf("Choose = %+v, %v; want offered %v, %v", got, err, tc.want, tc.wantErr)
			}
			if tc.want != nil && got.Generation != tc.want[0] {
				t.Fatalf("Choose picked %q, want %q", got.Generation, tc.want[0])
			}
			for _, probe := range []string{"GET /_matrix/client/versions", "GET " + string(PathUnstable)} {
				if n := tc.hs.requests(probe); n > 1 {
					t.Errorf("%s asked %d times", probe, n)
				}
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

// One sign-in asks the server about each generation once, also when the
// preferred one is missing and the other is chosen: with an explicit
// rendezvous server each 2024 probe is a create (and a real session).
func TestChooseProbesEachGenerationOnce(t *testing.T) {
	var (
		versions  = "GET /_matrix/client/versions"
		discovery = "GET " + string(PathUnstable)
		create    = "POST " + Path2024
		createAt  = "POST /" // CreateAt's fallback when the standard path is missing
		cancel    = "DELETE /s/1"
		g24, g88  = vocab.MSC4108v2024, vocab.MSC4388
	)
	cases := []struct {
		name     string
		hs       chooseHomeserver
		explicit bool
		pref     vocab.Preference
		offered  []vocab.Generation
		hits     map[string]int
	}{
		{"homeserver without 2024", chooseHomeserver{msc4388: "open"}, false, vocab.Auto,
			[]vocab.Generation{g88}, map[string]int{versions: 1, discovery: 1}},
		{"homeserver with both", chooseHomeserver{msc4108: true, msc4388: "open"}, false, vocab.Auto,
			[]vocab.Generation{g24, g88}, map[string]int{versions: 1, discovery: 1}},
		{"homeserver with both, MSC4388 asked for", chooseHomeserver{msc4108: true, msc4388: "open"}, false, vocab.PreferMSC4388,
			[]vocab.Generation{g88, g24}, map[string]int{versions: 1, discovery: 1}},
		{"explicit server without 2024", chooseHomeserver{msc4388: "open"}, true, vocab.Auto,
			[]vocab.Generation{g88}, map[string]int{create: 1, createAt: 1, discovery: 1}},
		{"explicit server with both", chooseHomeserver{msc4388: "open", create2024: true}, true, vocab.Auto,
			[]vocab.Generation{g24, g88}, map[string]int{create: 1, cancel: 1, discovery: 1}},
		{"explicit server with both, MSC4388 asked for", chooseHomeserver{msc4388: "open", create2024: true}, true, vocab.PreferMSC4388,
			[]vocab.Generation{g88, g24}, map[string]int{create: 1, cancel: 1, discovery: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.hs.start(t)
			opts := ChooseOptions{HomeserverURL: srv.URL}
			if tc.explicit {
				opts = ChooseOptions{HomeserverURL: "https://matrix.example.org", RendezvousServerURL: srv.URL}
			}
			got, err := Choose(chooseCtx(t), tc.pref, opts)
			if err != nil || got.Generation != tc.offered[0] || !slices.Equal(got.Offered, tc.offered) {
				t.Fatalf("Choose = %+v, %v; want offered %v", got, err, tc.offered)
			}
			tc.hs.mu.Lock()
			defer tc.hs.mu.Unlock()
			if !maps.Equal(tc.hs.hits, tc.hits) {
				t.Fatalf("requests %v, want %v", tc.hs.hits, tc.hits)
			}
		})
	}
}

func TestChooseExplicitServer(t *testing.T) {
	standalone := (&chooseHomeserver{create2024: true}).start(t)
	got, err := Choose(chooseCtx(t), vocab.Auto, ChooseOptions{HomeserverURL: "https://matrix.example.org", RendezvousServerURL: standalone.URL})
	if err != nil || got.Generation != vocab.MSC4108v2024 || !slices.Equal(got.Offered, []vocab.Generation{vocab.MSC4108v2024}) {
		t.Fatalf("Choose with a 2024 standalone server = %+v, %v", got, err)
	}
	ours := (&chooseHomeserver{msc4388: "open"}).start(t)
	got, err = Choose(chooseCtx(t), vocab.Auto, ChooseOptions{RendezvousServerURL: ours.URL})
	if err != nil || got.Generation != vocab.MSC4388 || !slices.Equal(got.Offered, []vocab.Generation{vocab.MSC4388}) {
		t.Fatalf("Choose with an MSC4388 rendezvous server = %+v, %v", got, err)
	}
}

func TestChooseNetworkFailureIsNotUnsupported(t *testing.T) {
	srv := (&chooseHomeserver{}).start(t)
	srv.Close()
	_, err := Choose(chooseCtx(t), vocab.Auto, ChooseOptions{HomeserverURL: srv.URL})
	var ue *UnsupportedError
	if err == nil || errors.As(err, &ue) || !errors.Is(err, ErrNetwork) {
		t.Fatalf("Choose with the server down: %v", err)
	}
}

func TestChooseInsecure(t *testing.T) {
	if _, err := Choose(chooseCtx(t), vocab.Auto, ChooseOptions{HomeserverURL: "http://matrix.example.org"}); !errors.Is(err, ErrInsecureURL) {
		t.Fatalf("Choose over plain http: %v", err)
	}
}

func TestChooseUnknownPreference(t *testing.T) {
	if _, err := Choose(context.Background(), "bogus", ChooseOptions{HomeserverURL: "https://x"}); err == nil {
		t.Error("Choose accepted a bogus preference")
	}
}
