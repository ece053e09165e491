package rendezvous

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

func pairETag(t *testing.T, f *fakeETag) (g, s *ETagSession) {
	t.Helper()
	ctx := testCtx(t)
	c := f.client(t, nil)
	g, err := c.Create(ctx)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	s, err = c.Join(ctx, g.URL())
	if err != nil {
		t.Fatalf("Join: %v", err)
	}
	return g, s
}

func TestETagCreateRequestShape(t *testing.T) {
	f := newFakeETag(t)
	g, _ := pairETag(t, f)
	if len(f.creates) != 1 {
		t.Fatalf("%d creates", len(f.creates))
	}
	r := f.creates[0]
	if got := r.Header.Values("Content-Type"); len(got) != 1 || got[0] != "text/plain" {
		t.Fatalf("Content-Type %q, want exactly text/plain", got)
	}
	// Synapse answers 400 M_MISSING_PARAM without the header, so it must be
	// on the wire even for the empty body.
	if r.ContentLength != 0 || r.Header.Get("Content-Length") != "0" {
		t.Fatalf("Content-Length %d (header %q), want an explicit 0", r.ContentLength, r.Header.Get("Content-Length"))
	}
	if r.Header.Get("Authorization") != "" {
		t.Fatal("create sent an Authorization header")
	}
	if !strings.Contains(g.URL(), "/_synapse/client/rendezvous/") {
		t.Fatalf("session URL %q", g.URL())
	}
	if g.Token() == "" || g.Token()[0] != '"' {
		t.Fatalf("ETag %q, want the quoted form verbatim", g.Token())
	}
}

func TestETagPingPong(t *testing.T) {
	f := newFakeETag(t)
	ctx := testCtx(t)
	g, s := pairETag(t, f)
	if f.ifNone[0] != "" {
		t.Fatalf("scanner's first GET sent If-None-Match %q", f.ifNone[0])
	}
	if err := s.Send(ctx, "initiate"); err != nil {
		t.Fatalf("S Send: %v", err)
	}
	if f.ifMatch[0] != g.Token() {
		t.Fatalf("If-Match %q, want %q", f.ifMatch[0], g.Token())
	}
	got, err := g.Receive(ctx, vocab.PaceReply)
	if err != nil || got != "initiate" || g.Token() != s.Token() {
		t.Fatalf("G Receive = %q, %v; ETags %q %q", got, err, g.Token(), s.Token())
	}
	if err := g.Send(ctx, "ok"); err != nil {
		t.Fatalf("G Send: %v", err)
	}
	// S polls: 304s with its own ETag until G's write shows.
	if got, err := s.Receive(ctx, vocab.PaceReply); err != nil || got != "ok" {
		t.Fatalf("S Receive = %q, %v", got, err)
	}
	for _, inm := range f.ifNone[1:] {
		if inm == "" || inm[0] != '"' {
			t.Fatalf("If-None-Match %q not echoed verbatim", inm)
		}
	}
	// Our own write does not come back as news.
	if err := s.Send(ctx, "again"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Receive(shortCtx(t), vocab.PaceReply); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Receive of own write: %v", err)
	}
	if err := g.Cancel(ctx); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	if _, err := g.Receive(ctx, vocab.PaceReply); !errors.Is(err, ErrExpired) {
		t.Fatalf("Receive after cancel: %v", err)
	}
	if err := s.Cancel(ctx); !errors.Is(err, ErrExpired) {
		t.Fatalf("second Cancel: %v", err)
	}
}

func TestETagConcurrentWrite(t *testing.T) {
	f := newFakeETag(t)
	ctx := testCtx(t)
	g, s := pairETag(t, f)
	if err := s.Send(ctx, "from S"); err != nil {
		t.Fatal(err)
	}
	err := g.Send(ctx, "from G")
	var he *HTTPError
	if !errors.Is(err, ErrConcurrentWrite) || !errors.As(err, &he) || he.Status != 412 || he.Errcode != ErrcodeConcurrentWrite {
		t.Fatalf("Send with stale ETag: %v", err)
	}
}

func TestETagStatusMapping(t *testing.T) {
	f := newFakeETag(t)
	g, s := pairETag(t, f)
	if err := s.Send(testCtx(t), strings.Repeat("x", 4097)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Send 4097 bytes: %v", err)
	}
	f.mu.Lock()
	for _, sess := range f.sessions {
		sess.expires = time.Now().Add(-time.Second)
	}
	f.mu.Unlock()
	if _, err := g.Receive(testCtx(t), vocab.PaceReply); !errors.Is(err, ErrExpired) {
		t.Fatalf("Receive on expired session: %v", err)
	}
}

func TestETagRedirectOnCreate(t *testing.T) {
	f := newFakeETag(t)
	f.delegate = true
	g, err := f.client(t, nil).Create(testCtx(t))
	if err != nil {
		t.Fatalf("Create through 307: %v", err)
	}
	if len(f.creates) != 1 || f.creates[0].URL.Path != "/delegated" || f.creates[0].Method != http.MethodPost {
		t.Fatalf("re-POST not seen at the Location")
	}
	if f.creates[0].Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("re-POST Content-Type %q", f.creates[0].Header.Get("Content-Type"))
	}
	if g.Token() == "" {
		t.Fatal("no ETag after redirected create")
	}
}

func TestETagMissingETag(t *testing.T) {
	f := newFakeETag(t)
	f.stripETag = true
	if _, err := f.client(t, nil).Create(testCtx(t)); !errors.Is(err, ErrMissingETag) {
		t.Fatalf("Create without ETag: %v", err)
	}
	f.stripETag = false
	g, s := pairETag(t, f)
	f.stripETag = true
	if err := s.Send(testCtx(t), "x"); !errors.Is(err, ErrMissingETag) {
		t.Fatalf("Send answered without ETag: %v", err)
	}
	if _, err := g.Receive(testCtx(t), vocab.PaceReply); !errors.Is(err, ErrMissingETag) {
		t.Fatalf("Receive answered without ETag: %v", err)
	}
}

func TestETagUnquoted(t *testing.T) {
	f := newFakeETag(t)
	f.unquoted = true
	ctx := testCtx(t)
	g, s := pairETag(t, f)
	if strings.Contains(g.Token(), `"`) {
		t.Fatalf("ETag %q was rewritten", g.Token())
	}
	if err := s.Send(ctx, "hi"); err != nil {
		t.Fatalf("Send with unquoted ETag: %v", err)
	}
	if got, err := g.Receive(ctx, vocab.PaceReply); err != nil || got != "hi" {
		t.Fatalf("Receive = %q, %v", got, err)
	}
	if f.ifMatch[0] != f.etagOf("") {
		t.Fatalf("If-Match %q, want %q verbatim", f.ifMatch[0], f.etagOf(""))
	}
}

// Expires is read relative to the response's own Date, so a server clock an
// hour off still yields a 60 s session here.
func TestETagExpirySkew(t *testing.T) {
	for _, skew := range []time.Duration{time.Hour, -time.Hour, 0} {
		f := newFakeETag(t)
		f.skew = skew
		g, err := f.client(t, nil).Create(testCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if until := time.Until(g.ExpiresAt()); until < 58*time.Second || until > 61*time.Second {
			t.Fatalf("skew %v: expires in %v, want about 60 s", skew, until)
		}
	}
	f := newFakeETag(t)
	f.noDate = true
	f.ttl = 10 * time.Minute
	g, err := f.client(t, func(c *ETagConfig) { c.DefaultTTL = 42 * time.Second }).Create(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if until := time.Until(g.ExpiresAt()); until < 40*time.Second || until > 43*time.Second {
		t.Fatalf("no Date: expires in %v, want the 42 s default", until)
	}
}

func TestETagExpiryDeadline(t *testing.T) {
	f := newFakeETag(t)
	f.ttl = 2 * time.Second // Expires has one-second resolution
	g, _ := pairETag(t, f)
	f.mu.Lock()
	for _, s := range f.sessions {
		s.expires = time.Now().Add(time.Hour)
	}
	f.mu.Unlock()
	// The server keeps answering 304 but said the session ends in ~2 s.
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("ETag", g.Token())
		w.WriteHeader(http.StatusNotModified)
		return true
	})
	start := time.Now()
	if _, err := g.Receive(testCtx(t), vocab.PaceReply); !errors.Is(err, ErrExpired) {
		t.Fatalf("Receive: %v, want ErrExpired", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("took %v", el)
	}
}

func TestETagStandaloneServer(t *testing.T) {
	f := newFakeETag(t)
	f.nodeStyle = true
	f.unquoted = true
	ctx := testCtx(t)
	c := f.client(t, func(c *ETagConfig) { c.HomeserverURL = "" })
	g, err := c.CreateAt(ctx, f.srv.URL+"/")
	if err != nil {
		t.Fatalf("CreateAt: %v", err)
	}
	if !strings.HasPrefix(g.URL(), f.srv.URL+"/S") {
		t.Fatalf("session URL %q not resolved from the relative Location", g.URL())
	}
	s, err := c.Join(ctx, g.URL())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(ctx, "hi"); err != nil {
		t.Fatal(err)
	}
	if got, err := g.Receive(ctx, vocab.PaceReply); err != nil || got != "hi" {
		t.Fatalf("Receive = %q, %v", got, err)
	}
	if err := g.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Receive(ctx, vocab.PaceReply); !errors.Is(err, ErrExpired) {
		t.Fatalf("Receive on a deleted node-style session: %v", err)
	}
}

func TestETagCreateAtPrefersHomeserverPath(t *testing.T) {
	f := newFakeETag(t)
	g, err := f.client(t, nil).CreateAt(testCtx(t), f.srv.URL)
	if err != nil || len(f.creates) != 1 || f.creates[0].URL.Path != Path2024 {
		t.Fatalf("CreateAt: %v", err)
	}
	_ = g
}

func TestETagLostPut(t *testing.T) {
	f := newFakeETag(t)
	ctx := testCtx(t)
	g, s := pairETag(t, f)
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut {
			f.applyThenDrop(w, r)
			return true
		}
		return false
	})
	if err := s.Send(ctx, "landed"); err != nil {
		t.Fatalf("Send with lost response: %v", err)
	}
	if got, err := g.Receive(ctx, vocab.PaceReply); err != nil || got != "landed" || g.Token() != s.Token() {
		t.Fatalf("Receive = %q, %v", got, err)
	}
	if err := g.Send(ctx, "reply"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Receive(ctx, vocab.PaceReply); err != nil || got != "reply" {
		t.Fatalf("S Receive = %q, %v", got, err)
	}
}

func TestETagServerErrorsAndRateLimit(t *testing.T) {
	f := newFakeETag(t)
	g, s := pairETag(t, f)
	var n atomic.Int32
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		switch n.Add(1) {
		case 1:
			w.WriteHeader(500)
			return true
		case 2:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(429)
			return true
		}
		return false
	})
	if err := s.Send(testCtx(t), "x"); err != nil {
		t.Fatalf("Send through 500 and 429: %v", err)
	}
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool { w.WriteHeader(504); return true })
	if _, err := g.Receive(outageCtx(t), vocab.PaceReply); !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrNetwork) {
		t.Fatalf("Receive under permanent 504: %v", err)
	}
}

// A 200 that is not a usable message (empty body, other content type, or
// the ETag we already saw) is not news.
func TestETagReceiveAcceptanceRule(t *testing.T) {
	f := newFakeETag(t)
	g, _ := pairETag(t, f)
	seen := g.Token()
	var n atomic.Int32
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		switch n.Add(1) {
		case 1: // empty body
			w.Header().Set("ETag", `"e1"`)
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(200)
		case 2: // not text/plain
			w.Header().Set("ETag", `"e2"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(200)
			_, _ = w.Write([]byte(`{}`))
		case 3: // a server that ignores If-None-Match, same ETag as seen
			w.Header().Set("ETag", seen)
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(200)
			_, _ = w.Write([]byte("old"))
		default:
			w.Header().Set("ETag", `"e4"`)
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(200)
			_, _ = w.Write([]byte("new"))
		}
		return true
	})
	if got, err := g.Receive(testCtx(t), vocab.PaceReply); err != nil || got != "new" || g.Token() != `"e4"` {
		t.Fatalf("Receive = %q, %v (token %q)", got, err, g.Token())
	}
}
