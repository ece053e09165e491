package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// rvStderr collects the command's stderr while the test reads it.
type rvStderr struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *rvStderr) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *rvStderr) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var rvListeningRE = regexp.MustCompile(`listening on (http://\S+)`)

// startRendezvousCommand runs the command until the returned cancel; it
// waits for the "listening on" line and returns the address.
func startRendezvousCommand(t *testing.T, args ...string) (base string, stderr *rvStderr, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr = &rvStderr{}
	done := make(chan int, 1)
	go func() {
		done <- Dispatch(ctx, append([]string{"rendezvous-server"}, args...), Stdio{In: strings.NewReader(""), Out: io.Discard, Err: stderr}, FrontEnds{})
	}()
	stop = func() int {
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(10 * time.Second):
			t.Fatal("rendezvous-server did not stop after cancel")
			return -1
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := rvListeningRE.FindStringSubmatch(stderr.String()); m != nil {
			return m[1], stderr, stop
		}
		select {
		case code := <-done:
			t.Fatalf("rendezvous-server exited with %d: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no listening line: %s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRendezvousServerCommand(t *testing.T) {
	base, stderr, stop := startRendezvousCommand(t, "--listen", "127.0.0.1:0", "--ttl", "120s", "--rate", "100/s")
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("listening on %q", base)
	}

	resp, err := http.Post(base+"/_matrix/client/unstable/io.element.msc4388/rendezvous", "application/json", strings.NewReader(`{"data":"hi"}`))
	if err != nil {
		t.Fatal(err)
	}
	var created map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || created["expires_in_ms"] != float64(120000) {
		t.Fatalf("MSC4388 create: %d %v", resp.StatusCode, created)
	}

	// The 2024 session URL is built from the default public URL.
	resp, err = http.Post(base+"/_matrix/client/unstable/org.matrix.msc4108/rendezvous", "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	var etag map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&etag)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || !strings.HasPrefix(etag["url"], base+"/_synapse/client/rendezvous/") {
		t.Fatalf("2024 create: %d %v", resp.StatusCode, etag)
	}

	// Without --trusted-proxy, forwarded headers change nothing.
	status, _, forwarded := rvPost(t, base+"/_matrix/client/unstable/org.matrix.msc4108/rendezvous", "text/plain", "x",
		"X-Forwarded-Proto", "https", "X-Forwarded-Host", "rv.example.net")
	if status != http.StatusCreated || !strings.HasPrefix(forwarded["url"].(string), base+"/_synapse/client/rendezvous/") {
		t.Fatalf("2024 create with forwarded headers from an untrusted peer: %d %v", status, forwarded)
	}

	// A standalone server advertises the 2024 API.
	resp, err = http.Get(base + "/_matrix/client/versions")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"org.matrix.msc4108":true`) {
		t.Fatalf("versions: %s", body)
	}

	if code := stop(); code != ExitOK {
		t.Fatalf("exit code %d after cancel: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "stopped") {
		t.Fatalf("no stop message: %s", stderr.String())
	}
	if _, err := http.Get(base + "/_matrix/client/versions"); err == nil {
		t.Fatal("still serving after shutdown")
	}
}

func TestRendezvousServerCommandPublicURLAndAuth(t *testing.T) {
	whoami := http.NewServeMux()
	whoami.HandleFunc("/_matrix/client/v3/account/whoami", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer good" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"user_id":"@a:b"}`))
	})
	hs := &http.Server{Handler: whoami}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()

	base, stderr, stop := startRendezvousCommand(t, "--listen", "127.0.0.1:0", "--public-url", "https://rv.example.org",
		"--mode", "authenticated", "--homeserver", "http://"+ln.Addr().String(), "--max-sessions", "0", "--rate", "0", "--ttl", "30s")
	defer stop()
	if !strings.Contains(stderr.String(), "outside MSC4388's recommended") {
		t.Errorf("no note about the short TTL: %s", stderr.String())
	}
	path := base + "/_matrix/client/v1/rendezvous"
	resp, err := http.Get(path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("discovery without token: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPost, path, strings.NewReader(`{"data":""}`))
	req.Header.Set("Authorization", "Bearer good")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("authenticated create: %d", resp.StatusCode)
	}
	resp, err = http.Post(base+"/_matrix/client/unstable/org.matrix.msc4108/rendezvous", "text/plain", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	var etag map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&etag)
	resp.Body.Close()
	if !strings.HasPrefix(etag["url"], "https://rv.example.org/_synapse/client/rendezvous/") {
		t.Fatalf("session URL %q ignores --public-url", etag["url"])
	}
}

func TestRendezvousServerCommandUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--listen"},
		{"--listen", "127.0.0.1:0", "extra"},
		{"--listen", "no-port"},
		{"--listen", "127.0.0.1:0", "--mode", "closed"},
		{"--listen", "127.0.0.1:0", "--mode", "authenticated"},
		{"--listen", "127.0.0.1:0", "--mode", "authenticated", "--homeserver", "matrix.org"},
		{"--listen", "127.0.0.1:0", "--rate", "fast"},
		{"--listen", "127.0.0.1:0", "--ttl", "0s"},
		{"--listen", "127.0.0.1:0", "--ttl", "soon"},
		{"--listen", "127.0.0.1:0", "--max-sessions", "-1"},
		{"--listen", "127.0.0.1:0", "--public-url", "rv.example.org"},
		{"--listen", "127.0.0.1:0", "--max-sessions-per-client", "-1"},
		{"--listen", "127.0.0.1:0", "--create-rate", "fast"},
		{"--listen", "127.0.0.1:0", "--trusted-proxy", "proxy.lan"},
		{"--listen", "127.0.0.1:0", "--trusted-proxy", "10.0.0.0/33"},
		{"--bogus"},
	} {
		var stderr rvStderr
		code := Dispatch(context.Background(), append([]string{"rendezvous-server"}, args...), Stdio{In: strings.NewReader(""), Out: io.Discard, Err: &stderr}, FrontEnds{})
		if code != ExitUsage {
			t.Errorf("args %q: exit %d, want %d (%s)", args, code, ExitUsage, stderr.String())
		}
	}
}

func TestRendezvousServerCommandListenFailure(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	var stderr rvStderr
	code := Dispatch(context.Background(), []string{"rendezvous-server", "--listen", busy.Addr().String()}, Stdio{In: strings.NewReader(""), Out: io.Discard, Err: &stderr}, FrontEnds{})
	if code != ExitFail {
		t.Fatalf("exit %d on a busy port, want %d (%s)", code, ExitFail, stderr.String())
	}
}

// rvPost sends a POST with extra headers (name, value, …) and decodes the
// JSON answer.
func rvPost(t *testing.T, url, contentType, body string, headers ...string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		t.Fatalf("POST %s: %d, body not JSON: %v", url, resp.StatusCode, err)
	}
	return resp.StatusCode, resp.Header, answer
}

// expectLimited returns a check of rvPost's answer: a 429
// M_LIMIT_EXCEEDED with Retry-After and retry_after_ms, whose
// retry_after_ms it returns.
func expectLimited(t *testing.T) func(int, http.Header, map[string]any) float64 {
	return func(status int, header http.Header, answer map[string]any) float64 {
		t.Helper()
		ms, _ := answer["retry_after_ms"].(float64)
		if status != http.StatusTooManyRequests || answer["errcode"] != "M_LIMIT_EXCEEDED" || header.Get("Retry-After") == "" || ms <= 0 {
			t.Fatalf("want 429 M_LIMIT_EXCEEDED with Retry-After, got %d %v (Retry-After %q)", status, answer, header.Get("Retry-After"))
		}
		return ms
	}
}

// TestRendezvousServerCommandPerClientDefaults: by default one client
// holds at most 20 live sessions (server.DefaultMaxSessionsPerClient).
func TestRendezvousServerCommandPerClientDefaults(t *testing.T) {
	base, stderr, stop := startRendezvousCommand(t, "--listen", "127.0.0.1:0")
	defer stop()
	create := base + "/_matrix/client/v1/rendezvous"
	for i := range 20 {
		if status, _, answer := rvPost(t, create, "application/json", `{"data":""}`); status != http.StatusOK {
			t.Fatalf("create %d: %d %v", i+1, status, answer)
		}
	}
	expectLimited(t)(rvPost(t, create, "application/json", `{"data":""}`))
	if !strings.Contains(stderr.String(), "20 live sessions and 30/min creations per client") {
		t.Errorf("the startup line does not state the per-client limits: %s", stderr.String())
	}
}

// TestRendezvousServerCommandPerClientFlags: --create-rate and
// --max-sessions-per-client set the two limits; 0 lifts them.
func TestRendezvousServerCommandPerClientFlags(t *testing.T) {
	t.Run("create rate", func(t *testing.T) {
		base, _, stop := startRendezvousCommand(t, "--listen", "127.0.0.1:0", "--max-sessions-per-client", "0", "--create-rate", "2/min")
		defer stop()
		create := base + "/_matrix/client/v1/rendezvous"
		for range 2 {
			if status, _, answer := rvPost(t, create, "application/json", `{"data":""}`); status != http.StatusOK {
				t.Fatalf("create: %d %v", status, answer)
			}
		}
		if ms := expectLimited(t)(rvPost(t, create, "application/json", `{"data":""}`)); ms < 25000 || ms > 30000 {
			t.Fatalf("retry_after_ms %v, want about 30 s (one creation per 30 s)", ms)
		}
	})
	t.Run("live sessions", func(t *testing.T) {
		base, _, stop := startRendezvousCommand(t, "--listen", "127.0.0.1:0", "--max-sessions-per-client", "1", "--create-rate", "0")
		defer stop()
		create := base + "/_matrix/client/v1/rendezvous"
		status, _, answer := rvPost(t, create, "application/json", `{"data":""}`)
		if status != http.StatusOK {
			t.Fatalf("create: %d %v", status, answer)
		}
		expectLimited(t)(rvPost(t, create, "application/json", `{"data":""}`))
		req, _ := http.NewRequest(http.MethodDelete, create+"/"+answer["id"].(string), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if status, _, answer := rvPost(t, create, "application/json", `{"data":""}`); status != http.StatusOK {
			t.Fatalf("create after DELETE: %d %v", status, answer)
		}
	})
}

// TestRendezvousServerCommandTrustedProxy: behind --trusted-proxy clients
// are told apart by X-Forwarded-For and the 2024 session URL follows
// X-Forwarded-Proto / X-Forwarded-Host, unless --public-url is given.
func TestRendezvousServerCommandTrustedProxy(t *testing.T) {
	base, stderr, stop := startRendezvousCommand(t, "--listen", "127.0.0.1:0", "--trusted-proxy", "127.0.0.0/8",
		"--trusted-proxy", "::1", "--max-sessions-per-client", "1")
	defer stop()
	create := base + "/_matrix/client/v1/rendezvous"
	if status, _, answer := rvPost(t, create, "application/json", `{"data":""}`, "X-Forwarded-For", "198.51.100.1"); status != http.StatusOK {
		t.Fatalf("create for client 1: %d %v", status, answer)
	}
	expectLimited(t)(rvPost(t, create, "application/json", `{"data":""}`, "X-Forwarded-For", "198.51.100.1"))
	if status, _, answer := rvPost(t, create, "application/json", `{"data":""}`, "X-Forwarded-For", "198.51.100.2"); status != http.StatusOK {
		t.Fatalf("create for client 2: %d %v", status, answer)
	}

	etagCreate := base + "/_matrix/client/unstable/org.matrix.msc4108/rendezvous"
	_, _, answer := rvPost(t, etagCreate, "text/plain", "x", "X-Forwarded-For", "198.51.100.3",
		"X-Forwarded-Proto", "https", "X-Forwarded-Host", "rv.example.net")
	if url, _ := answer["url"].(string); !strings.HasPrefix(url, "https://rv.example.net/_synapse/client/rendezvous/") {
		t.Fatalf("session URL behind the proxy: %v", answer)
	}
	_, _, answer = rvPost(t, etagCreate, "text/plain", "x")
	if url, _ := answer["url"].(string); !strings.HasPrefix(url, base+"/_synapse/client/rendezvous/") {
		t.Fatalf("session URL of a direct request: %v", answer)
	}
	if !strings.Contains(stderr.String(), "trusted proxies 127.0.0.0/8, ::1/128") {
		t.Errorf("the startup line does not name the trusted proxies: %s", stderr.String())
	}

	publicBase, _, stopPublic := startRendezvousCommand(t, "--listen", "127.0.0.1:0", "--trusted-proxy", "127.0.0.1/32",
		"--public-url", "https://matrix.example.org")
	defer stopPublic()
	_, _, answer = rvPost(t, publicBase+"/_matrix/client/unstable/org.matrix.msc4108/rendezvous", "text/plain", "x",
		"X-Forwarded-Proto", "http", "X-Forwarded-Host", "rv.example.net")
	if url, _ := answer["url"].(string); !strings.HasPrefix(url, "https://matrix.example.org/_synapse/client/rendezvous/") {
		t.Fatalf("--public-url is not preferred to forwarded headers: %v", answer)
	}
}
