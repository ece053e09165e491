package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// testClock is a settable clock for the server's Now hook.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testEnv is a running server on 127.0.0.1 and what tests need of it.
type testEnv struct {
	t      testing.TB
	server *Server
	http   *httptest.Server
	clock  *testClock
	client *http.Client
}

// newTestEnv starts New(cfg) behind a real HTTP listener. A nil
// cfg.Now gets a settable clock; the rate limit stays off unless set.
func newTestEnv(t testing.TB, cfg Config) *testEnv {
	t.Helper()
	env := &testEnv{t: t, clock: newTestClock()}
	if cfg.Now == nil {
		cfg.Now = env.clock.Now
	}
	env.server = New(cfg)
	env.http = httptest.NewServer(env.server) // listens on 127.0.0.1
	env.client = env.http.Client()
	t.Cleanup(func() {
		env.http.Close()
		env.server.Close()
	})
	return env
}

// testResponse is a response read whole.
type testResponse struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic map.
func (r testResponse) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

func (r testResponse) str(t testing.TB, field string) string {
	t.Helper()
	v, ok := r.json(t)[field].(string)
	if !ok {
		t.Fatalf("field %q missing or not a string in %s", field, r.body)
	}
	return v
}

func (r testResponse) num(t testing.TB, field string) float64 {
	t.Helper()
	v, ok := r.json(t)[field].(float64)
	if !ok {
		t.Fatalf("field %q missing or not a number in %s", field, r.body)
	}
	return v
}

// expectError checks a Matrix error response.
func (r testResponse) expectError(t testing.TB, status int, errcode string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d (body %s)", r.status, status, r.body)
	}
	if got := r.str(t, "errcode"); got != errcode {
		t.Fatalf("errcode %q, want %q", got, errcode)
	}
}

func (r testResponse) expectStatus(t testing.TB, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d (body %s)", r.status, status, r.body)
	}
}

// do sends one request; headers alternate name, value.
func (env *testEnv) do(method, path string, body string, headers ...string) testResponse {
	env.t.Helper()
	var reader io.Reader
	if body != "" || method == http.MethodPost || method == http.MethodPut {
		reader = strings.NewReader(body)
	}
	target := path
	if !strings.HasPrefix(path, "http") {
		target = env.http.URL + path
	}
	req, err := http.NewRequest(method, target, reader)
	if err != nil {
		env.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	return env.send(req)
}

func (env *testEnv) send(req *http.Request) testResponse {
	env.t.Helper()
	resp, err := env.client.Do(req)
	if err != nil {
		env.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		env.t.Fatal(err)
	}
	return testResponse{status: resp.StatusCode, header: resp.Header, body: body}
}

// jsonBody encodes v for a request body.
func jsonBody(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// create4388 makes an MSC4388 session under prefix and returns its ID and
// first sequence token.
func (env *testEnv) create4388(prefix, data string) (id, token string) {
	env.t.Helper()
	resp := env.do(http.MethodPost, prefix, jsonBody(map[string]string{"data": data}))
	resp.expectStatus(env.t, http.StatusOK)
	return resp.str(env.t, "id"), resp.str(env.t, "sequence_token")
}

// put4388 sends a PUT and returns the response.
func (env *testEnv) put4388(prefix, id, token, data string) testResponse {
	env.t.Helper()
	return env.do(http.MethodPut, prefix+"/"+id, jsonBody(map[string]string{"sequence_token": token, "data": data}))
}

// createETag makes a 2024 session and returns its URL and ETag.
func (env *testEnv) createETag(body string) (url, etag string) {
	env.t.Helper()
	resp := env.do(http.MethodPost, pathETagCreate, body, "Content-Type", "text/plain")
	resp.expectStatus(env.t, http.StatusCreated)
	return resp.str(env.t, "url"), resp.header.Get("ETag")
}

// msc4388Prefixes are both MSC4388 path prefixes with the errcode each gives
// a concurrent write.
var msc4388Prefixes = []struct {
	name, path, concurrentErrcode string
}{
	{"unstable", pathMSC4388Unstable, "IO_ELEMENT_MSC4388_CONCURRENT_WRITE"},
	{"v1", pathMSC4388Stable, "M_CONCURRENT_WRITE"},
}
