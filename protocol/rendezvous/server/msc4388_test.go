package server

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMSC4388Lifecycle walks one session through every endpoint under
// both path prefixes (MSC4388 "Example API usage").
func TestMSC4388Lifecycle(t *testing.T) {
	for _, prefix := range msc4388Prefixes {
		t.Run(prefix.name, func(t *testing.T) {
			env := newTestEnv(t, Config{TTL: 120 * time.Second})

			discovery := env.do(http.MethodGet, prefix.path, "")
			discovery.expectStatus(t, http.StatusOK)
			if discovery.json(t)["create_available"] != true {
				t.Fatalf("discovery = %s, want create_available true", discovery.body)
			}

			created := env.do(http.MethodPost, prefix.path, `{"data":"Hello from A"}`)
			created.expectStatus(t, http.StatusOK)
			id, token0 := created.str(t, "id"), created.str(t, "sequence_token")
			if got := created.num(t, "expires_in_ms"); got != 120000 {
				t.Fatalf("expires_in_ms = %v, want 120000", got)
			}
			if !isOpaqueIdentifier(id) || !isOpaqueIdentifier(token0) {
				t.Fatalf("id %q or token %q breaks the opaque identifier grammar", id, token0)
			}

			got := env.do(http.MethodGet, prefix.path+"/"+id, "")
			got.expectStatus(t, http.StatusOK)
			if got.str(t, "data") != "Hello from A" || got.str(t, "sequence_token") != token0 || got.num(t, "expires_in_ms") != 120000 {
				t.Fatalf("GET = %s", got.body)
			}

			put := env.put4388(prefix.path, id, token0, "Hello from B")
			put.expectStatus(t, http.StatusOK)
			token1 := put.str(t, "sequence_token")
			if token1 == token0 || !isOpaqueIdentifier(token1) {
				t.Fatalf("token after write = %q (before %q)", token1, token0)
			}
			got = env.do(http.MethodGet, prefix.path+"/"+id, "")
			if got.str(t, "data") != "Hello from B" || got.str(t, "sequence_token") != token1 {
				t.Fatalf("GET after PUT = %s", got.body)
			}

			// The token MUST change on every successful write, even when
			// the data repeats, so the peers can tell their writes apart.
			same := env.put4388(prefix.path, id, token1, "Hello from B")
			same.expectStatus(t, http.StatusOK)
			if token2 := same.str(t, "sequence_token"); token2 == token1 || token2 == token0 {
				t.Fatalf("token did not change on a write of identical data: %q", token2)
			}

			env.do(http.MethodDelete, prefix.path+"/"+id, "").expectStatus(t, http.StatusOK)
			env.do(http.MethodGet, prefix.path+"/"+id, "").expectError(t, http.StatusNotFound, "M_NOT_FOUND")
			env.put4388(prefix.path, id, token1, "late").expectError(t, http.StatusNotFound, "M_NOT_FOUND")
			env.do(http.MethodDelete, prefix.path+"/"+id, "").expectError(t, http.StatusNotFound, "M_NOT_FOUND")
		})
	}
}

// TestMSC4388SessionSharedAcrossPrefixes: both prefixes name the
// same API, so a session made under one is reachable under the other.
func TestMSC4388SessionSharedAcrossPrefixes(t *testing.T) {
	env := newTestEnv(t, Config{})
	id, token := env.create4388(pathMSC4388Unstable, "x")
	got := env.do(http.MethodGet, pathMSC4388Stable+"/"+id, "")
	got.expectStatus(t, http.StatusOK)
	if got.str(t, "sequence_token") != token {
		t.Fatalf("GET via v1 = %s", got.body)
	}
}

// TestMSC4388ConcurrentWrite: a stale token with different data is
// refused with 409 and the prefix's errcode (MSC4388 "Unstable prefix").
func TestMSC4388ConcurrentWrite(t *testing.T) {
	for _, prefix := range msc4388Prefixes {
		t.Run(prefix.name, func(t *testing.T) {
			env := newTestEnv(t, Config{})
			id, token0 := env.create4388(prefix.path, "a")
			env.put4388(prefix.path, id, token0, "b").expectStatus(t, http.StatusOK)
			env.put4388(prefix.path, id, token0, "c").expectError(t, http.StatusConflict, prefix.concurrentErrcode)
			env.put4388(prefix.path, id, "made-up", "c").expectError(t, http.StatusConflict, prefix.concurrentErrcode)
			if got := env.do(http.MethodGet, prefix.path+"/"+id, ""); got.str(t, "data") != "b" {
				t.Fatalf("refused write changed the payload: %s", got.body)
			}
		})
	}
}

// TestMSC4388IdempotentRetryMSCRule: the MSC text accepts a PUT with
// any mismatched token when the data equals the current payload, without
// writing and with the current token.
func TestMSC4388IdempotentRetryMSCRule(t *testing.T) {
	env := newTestEnv(t, Config{})
	p := pathMSC4388Unstable
	id, token0 := env.create4388(p, "first")

	// A made-up token with the POST's data: acknowledged.
	ack := env.put4388(p, id, "made-up", "first")
	ack.expectStatus(t, http.StatusOK)
	if ack.str(t, "sequence_token") != token0 {
		t.Fatalf("retry answered %s, want the current token %q", ack.body, token0)
	}

	token1 := env.put4388(p, id, token0, "second").str(t, "sequence_token")
	// The lost-response case: the same PUT again.
	retry := env.put4388(p, id, token0, "second")
	retry.expectStatus(t, http.StatusOK)
	if retry.str(t, "sequence_token") != token1 {
		t.Fatalf("retry answered %s, want %q", retry.body, token1)
	}
	token2 := env.put4388(p, id, token1, "third").str(t, "sequence_token")
	// An older token (two writes back) with the current data: still accepted.
	old := env.put4388(p, id, token0, "third")
	old.expectStatus(t, http.StatusOK)
	if old.str(t, "sequence_token") != token2 {
		t.Fatalf("retry with an old token answered %s, want %q", old.body, token2)
	}
	// Nothing was written by the retries.
	got := env.do(http.MethodGet, p+"/"+id, "")
	if got.str(t, "sequence_token") != token2 || got.str(t, "data") != "third" {
		t.Fatalf("retries changed the session: %s", got.body)
	}
	// Data that differs from the current payload is a concurrent write.
	env.put4388(p, id, token1, "second").expectError(t, http.StatusConflict, "IO_ELEMENT_MSC4388_CONCURRENT_WRITE")
}

// TestMSC4388IdempotentRetrySynapseRule: Synapse acknowledges only a
// repeat of the last write (token from before it, same data); the cases
// where it differs from the MSC text get 409.
func TestMSC4388IdempotentRetrySynapseRule(t *testing.T) {
	env := newTestEnv(t, Config{RetryRule: RetryRuleSynapse})
	p := pathMSC4388Unstable
	id, token0 := env.create4388(p, "first")
	env.put4388(p, id, "made-up", "first").expectError(t, http.StatusConflict, "IO_ELEMENT_MSC4388_CONCURRENT_WRITE")

	token1 := env.put4388(p, id, token0, "second").str(t, "sequence_token")
	retry := env.put4388(p, id, token0, "second")
	retry.expectStatus(t, http.StatusOK)
	if retry.str(t, "sequence_token") != token1 {
		t.Fatalf("retry answered %s, want %q", retry.body, token1)
	}
	env.put4388(p, id, token1, "third").expectStatus(t, http.StatusOK)
	// The MSC text would accept this blind retry with an older token.
	env.put4388(p, id, token0, "third").expectError(t, http.StatusConflict, "IO_ELEMENT_MSC4388_CONCURRENT_WRITE")
}

// TestMSC4388CompareAndSwapRace: many writers with the same token and
// different data; exactly one wins.
func TestMSC4388CompareAndSwapRace(t *testing.T) {
	for _, prefix := range msc4388Prefixes {
		t.Run(prefix.name, func(t *testing.T) {
			env := newTestEnv(t, Config{})
			id, token := env.create4388(prefix.path, "start")
			const writers = 32
			statuses := make([]int, writers)
			var wg sync.WaitGroup
			for i := range writers {
				wg.Go(func() {
					statuses[i] = env.put4388(prefix.path, id, token, "writer-"+string(rune('A'+i))).status
				})
			}
			wg.Wait()
			winners := 0
			winner := -1
			for i, status := range statuses {
				switch status {
				case http.StatusOK:
					winners++
					winner = i
				case http.StatusConflict:
				default:
					t.Fatalf("writer %d got status %d", i, status)
				}
			}
			if winners != 1 {
				t.Fatalf("%d writers won, want exactly 1", winners)
			}
			if got := env.do(http.MethodGet, prefix.path+"/"+id, ""); got.str(t, "data") != "writer-"+string(rune('A'+winner)) {
				t.Fatalf("payload %s is not the winner's", got.body)
			}
		})
	}
}

// TestMSC4388Expiry: sessions end TTL after creation, writes do not
// extend them, expires_in_ms counts down, and an expired session is
// reclaimed on access.
func TestMSC4388Expiry(t *testing.T) {
	env := newTestEnv(t, Config{TTL: 10 * time.Second})
	p := pathMSC4388Stable
	id, token := env.create4388(p, "a")

	env.clock.Advance(4 * time.Second)
	put := env.put4388(p, id, token, "b")
	put.expectStatus(t, http.StatusOK)
	got := env.do(http.MethodGet, p+"/"+id, "")
	if ms := got.num(t, "expires_in_ms"); ms != 6000 {
		t.Fatalf("expires_in_ms after 4 s and a write = %v, want 6000", ms)
	}

	env.clock.Advance(6*time.Second - time.Millisecond)
	if ms := env.do(http.MethodGet, p+"/"+id, "").num(t, "expires_in_ms"); ms != 1 {
		t.Fatalf("expires_in_ms 1 ms before expiry = %v", ms)
	}
	env.clock.Advance(time.Millisecond)
	if n := env.server.store.size(); n != 1 {
		t.Fatalf("store holds %d sessions before the expired one is touched", n)
	}
	env.do(http.MethodGet, p+"/"+id, "").expectError(t, http.StatusNotFound, "M_NOT_FOUND")
	if n := env.server.store.size(); n != 0 {
		t.Fatalf("expired session not reclaimed on access: %d left", n)
	}
	env.put4388(p, id, put.str(t, "sequence_token"), "c").expectError(t, http.StatusNotFound, "M_NOT_FOUND")
	env.do(http.MethodDelete, p+"/"+id, "").expectError(t, http.StatusNotFound, "M_NOT_FOUND")
}

// TestMSC4388ExpiredDeleteAndPut: PUT and DELETE on an expired
// session fail too ("any further attempts to query or update the payload
// MUST fail").
func TestMSC4388ExpiredDeleteAndPut(t *testing.T) {
	env := newTestEnv(t, Config{TTL: time.Second})
	p := pathMSC4388Unstable
	id1, token1 := env.create4388(p, "a")
	id2, _ := env.create4388(p, "a")
	env.clock.Advance(time.Second)
	env.put4388(p, id1, token1, "b").expectError(t, http.StatusNotFound, "M_NOT_FOUND")
	env.do(http.MethodDelete, p+"/"+id2, "").expectError(t, http.StatusNotFound, "M_NOT_FOUND")
}

// TestMSC4388TooLarge: data over 4096 bytes (UTF-8) gets 413
// M_TOO_LARGE on POST and PUT; exactly 4096 is fine.
func TestMSC4388TooLarge(t *testing.T) {
	env := newTestEnv(t, Config{})
	p := pathMSC4388Unstable
	env.create4388(p, strings.Repeat("a", 4096))
	env.do(http.MethodPost, p, jsonBody(map[string]string{"data": strings.Repeat("a", 4097)})).expectError(t, http.StatusRequestEntityTooLarge, "M_TOO_LARGE")
	// 1366 three-byte characters are 4098 bytes, though only 1366 runes.
	env.do(http.MethodPost, p, jsonBody(map[string]string{"data": strings.Repeat("€", 1366)})).expectError(t, http.StatusRequestEntityTooLarge, "M_TOO_LARGE")
	// Escaped JSON is measured after decoding: 4096 bytes as \u0061.
	escaped := `{"data":"` + strings.Repeat(`\u0061`, 4096) + `"}`
	env.do(http.MethodPost, p, escaped).expectStatus(t, http.StatusOK)

	id, token := env.create4388(p, "small")
	env.put4388(p, id, token, strings.Repeat("b", 4097)).expectError(t, http.StatusRequestEntityTooLarge, "M_TOO_LARGE")
	env.put4388(p, id, token, strings.Repeat("b", 4096)).expectStatus(t, http.StatusOK)
	// A body beyond the JSON limit is refused before parsing.
	env.do(http.MethodPost, p, `{"data":"x","pad":"`+strings.Repeat(" ", maxJSONBody)+`"}`).expectError(t, http.StatusRequestEntityTooLarge, "M_TOO_LARGE")
}

// TestMSC4388BadBodies: 400 M_NOT_JSON for non-JSON, 400
// M_INVALID_PARAM for missing or mistyped fields.
func TestMSC4388BadBodies(t *testing.T) {
	env := newTestEnv(t, Config{})
	p := pathMSC4388Unstable
	for _, tc := range []struct{ body, errcode string }{
		{"", "M_NOT_JSON"},
		{"{", "M_NOT_JSON"},
		{"data=x", "M_NOT_JSON"},
		{"[]", "M_INVALID_PARAM"},
		{"null", "M_INVALID_PARAM"},
		{"{}", "M_INVALID_PARAM"},
		{`{"data":null}`, "M_INVALID_PARAM"},
		{`{"data":1}`, "M_INVALID_PARAM"},
		{`{"data":{"x":1}}`, "M_INVALID_PARAM"},
	} {
		env.do(http.MethodPost, p, tc.body).expectError(t, http.StatusBadRequest, tc.errcode)
	}
	id, token := env.create4388(p, "a")
	for _, tc := range []struct{ body, errcode string }{
		{"not json", "M_NOT_JSON"},
		{`{"data":"b"}`, "M_INVALID_PARAM"},
		{`{"sequence_token":"` + token + `"}`, "M_INVALID_PARAM"},
		{`{"sequence_token":7,"data":"b"}`, "M_INVALID_PARAM"},
	} {
		env.do(http.MethodPut, p+"/"+id, tc.body).expectError(t, http.StatusBadRequest, tc.errcode)
	}
}

// TestMSC4388UnknownSessions: IDs that break the grammar, unknown
// IDs and 2024 session IDs all get 404 M_NOT_FOUND on the MSC4388 paths.
func TestMSC4388UnknownSessions(t *testing.T) {
	env := newTestEnv(t, Config{})
	p := pathMSC4388Unstable
	etagURL, _ := env.createETag("x")
	etagID := etagURL[strings.LastIndex(etagURL, "/")+1:]
	for _, id := range []string{"0123456789ABCDEFGHJKMNPQRS", "a%20b", "a/b", strings.Repeat("A", 300), etagID} {
		env.do(http.MethodGet, p+"/"+id, "").expectError(t, http.StatusNotFound, "M_NOT_FOUND")
		env.do(http.MethodDelete, p+"/"+id, "").expectError(t, http.StatusNotFound, "M_NOT_FOUND")
		env.put4388(p, id, "t", "d").expectError(t, http.StatusNotFound, "M_NOT_FOUND")
	}
}

// TestSessionIDs: IDs are distinct, 26 characters of Crockford
// base32 (128 random bits) and comply with the opaque identifier grammar.
func TestSessionIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 10000 {
		id := newSessionID()
		if len(id) != 26 || !isOpaqueIdentifier(id) || strings.Trim(id, "0123456789ABCDEFGHJKMNPQRSTVWXYZ") != "" {
			t.Fatalf("bad ID %q", id)
		}
		if seen[id] {
			t.Fatalf("duplicate ID %q", id)
		}
		seen[id] = true
	}
}

func TestOpaqueIdentifierGrammar(t *testing.T) {
	for s, want := range map[string]bool{
		"abcdEFG12345": true, "a-b.c_d~e": true, strings.Repeat("x", 255): true,
		"": false, strings.Repeat("x", 256): false, "a b": false, "a/b": false, "a=b": false, "é": false,
	} {
		if got := isOpaqueIdentifier(s); got != want {
			t.Errorf("isOpaqueIdentifier(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestMSC4388HeadAndTrailingSlash: HEAD works like GET and the
// collection path tolerates a trailing slash.
func TestMSC4388HeadAndTrailingSlash(t *testing.T) {
	env := newTestEnv(t, Config{})
	env.do(http.MethodGet, pathMSC4388Unstable+"/", "").expectStatus(t, http.StatusOK)
	env.do(http.MethodPost, pathMSC4388Stable+"/", `{"data":""}`).expectStatus(t, http.StatusOK)
	id, _ := env.create4388(pathMSC4388Unstable, "a")
	head := env.do(http.MethodHead, pathMSC4388Unstable+"/"+id, "")
	head.expectStatus(t, http.StatusOK)
	if len(head.body) != 0 {
		t.Fatalf("HEAD returned a body: %q", head.body)
	}
}

// TestUnknownPathsAndMethods: unknown paths get 404 M_UNRECOGNIZED,
// known paths with the wrong method 405 M_UNRECOGNIZED.
func TestUnknownPathsAndMethods(t *testing.T) {
	env := newTestEnv(t, Config{})
	for _, path := range []string{"/", "/_matrix/client/v1/rendezvousX", "/_matrix/client/v3/rendezvous", "/_synapse/client/rendezvous", pathVersions} {
		env.do(http.MethodGet, path, "").expectError(t, http.StatusNotFound, "M_UNRECOGNIZED")
	}
	for _, tc := range []struct{ method, path string }{
		{http.MethodPut, pathMSC4388Unstable},
		{http.MethodDelete, pathMSC4388Stable},
		{http.MethodPatch, pathMSC4388Unstable + "/X"},
		{http.MethodPost, pathMSC4388Unstable + "/X"},
		{http.MethodGet, pathETagCreate},
		{http.MethodPost, pathETagSession + "X"},
	} {
		resp := env.do(tc.method, tc.path, "")
		resp.expectError(t, http.StatusMethodNotAllowed, "M_UNRECOGNIZED")
		if resp.header.Get("Allow") == "" {
			t.Errorf("%s %s: 405 without Allow", tc.method, tc.path)
		}
	}
}

// TestGenerationSwitches: ModeOff, UnstableOnly and DisableETag each
// remove their paths (404 M_UNRECOGNIZED, as a server without the API).
func TestGenerationSwitches(t *testing.T) {
	off := newTestEnv(t, Config{Mode: ModeOff})
	off.do(http.MethodGet, pathMSC4388Unstable, "").expectError(t, http.StatusNotFound, "M_UNRECOGNIZED")
	off.do(http.MethodPost, pathMSC4388Stable, `{"data":""}`).expectError(t, http.StatusNotFound, "M_UNRECOGNIZED")
	off.createETag("still served")

	unstable := newTestEnv(t, Config{UnstableOnly: true})
	unstable.do(http.MethodGet, pathMSC4388Stable, "").expectError(t, http.StatusNotFound, "M_UNRECOGNIZED")
	unstable.do(http.MethodGet, pathMSC4388Unstable, "").expectStatus(t, http.StatusOK)

	noETag := newTestEnv(t, Config{DisableETag: true, ServeVersions: true})
	noETag.do(http.MethodPost, pathETagCreate, "x", "Content-Type", "text/plain").expectError(t, http.StatusNotFound, "M_UNRECOGNIZED")
	if features := noETag.do(http.MethodGet, pathVersions, "").json(t)["unstable_features"].(map[string]any); features["org.matrix.msc4108"] != false {
		t.Fatalf("versions advertises msc4108 with the 2024 API off: %v", features)
	}
	if got := len(routesOf(t, Config{Mode: ModeOff, DisableETag: true})); got != 0 {
		t.Fatalf("Routes with everything off = %d patterns", got)
	}
}

// routesOf returns the mux patterns of a server built from cfg.
func routesOf(t *testing.T, cfg Config) []string {
	s := New(cfg)
	t.Cleanup(s.Close)
	return s.Routes()
}

// TestRoutesMountOnMux: the handler works mounted on a ServeMux with
// the patterns Routes lists, next to other handlers (as the dev
// homeserver mounts it).
func TestRoutesMountOnMux(t *testing.T) {
	env := newTestEnv(t, Config{ServeVersions: true})
	mux := http.NewServeMux()
	for _, pattern := range env.server.Routes() {
		mux.Handle(pattern, env.server)
	}
	mux.HandleFunc("/_matrix/client/v3/account/whoami", func(w http.ResponseWriter, _ *http.Request) {})
	env.http.Config.Handler = mux
	env.create4388(pathMSC4388Unstable, "a")
	env.create4388(pathMSC4388Stable, "a")
	url, _ := env.createETag("b")
	env.do(http.MethodGet, url, "").expectStatus(t, http.StatusOK)
	env.do(http.MethodGet, pathVersions, "").expectStatus(t, http.StatusOK)
	env.do(http.MethodGet, "/_matrix/client/v3/account/whoami", "").expectStatus(t, http.StatusOK)
}

// TestVersions: with ServeVersions a standalone server advertises the
// 2024 API as Synapse does.
func TestVersions(t *testing.T) {
	env := newTestEnv(t, Config{ServeVersions: true})
	resp := env.do(http.MethodGet, pathVersions, "")
	resp.expectStatus(t, http.StatusOK)
	m := resp.json(t)
	if features, _ := m["unstable_features"].(map[string]any); features["org.matrix.msc4108"] != true {
		t.Fatalf("versions = %s", resp.body)
	}
	if versions, _ := m["versions"].([]any); len(versions) == 0 {
		t.Fatalf("versions list empty: %s", resp.body)
	}
}
