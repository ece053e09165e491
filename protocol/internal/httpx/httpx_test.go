package httpx

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestReadBodyBounded(t *testing.T) {
	if b, err := ReadBody(strings.NewReader("12345"), 5); err != nil || string(b) != "12345" {
		t.Fatalf("at the limit: %q, %v", b, err)
	}
	if _, err := ReadBody(strings.NewReader("123456"), 5); !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
	boom := errors.New("connection reset")
	if _, err := ReadBody(failingReader{boom}, 5); !errors.Is(err, boom) {
		t.Fatalf("read failure: %v", err)
	}
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

func TestSleepReturnsCause(t *testing.T) {
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("full wait: %v", err)
	}
	if err := Sleep(context.Background(), 0); err != nil {
		t.Fatalf("zero wait: %v", err)
	}
	gone := errors.New("session expired")
	ctx, cancel := context.WithDeadlineCause(context.Background(), time.Now().Add(10*time.Millisecond), gone)
	defer cancel()
	start := time.Now()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, gone) {
		t.Fatalf("deadline: %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("did not stop at the deadline")
	}
	if err := Sleep(ctx, 0); !errors.Is(err, gone) {
		t.Fatalf("zero wait on an ended context: %v", err)
	}
	plain, cancelPlain := context.WithCancel(context.Background())
	cancelPlain()
	if err := Sleep(plain, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestRetryAfterPolicy(t *testing.T) {
	date := "Fri, 27 Nov 2026 10:59:58 GMT"
	cases := []struct {
		name   string
		header http.Header
		body   string
		want   time.Duration
		ok     bool
	}{
		{"nothing", nil, `{"errcode":"M_LIMIT_EXCEEDED"}`, 0, false},
		{"seconds", http.Header{"Retry-After": {"2"}}, ``, 2 * time.Second, true},
		{"zero seconds", http.Header{"Retry-After": {"0"}}, ``, 0, true},
		{"date against the answer's Date", http.Header{"Retry-After": {"Fri, 27 Nov 2026 11:00:00 GMT"}, "Date": {date}}, ``, 2 * time.Second, true},
		{"date in the past", http.Header{"Retry-After": {"Fri, 27 Nov 2026 10:00:00 GMT"}, "Date": {date}}, ``, 0, true},
		{"header before body (MSC4041)", http.Header{"Retry-After": {"2"}}, `{"retry_after_ms":1500}`, 2 * time.Second, true},
		{"body when the header is unusable", http.Header{"Retry-After": {"soon"}}, `{"retry_after_ms":1500}`, 1500 * time.Millisecond, true},
		{"negative header", http.Header{"Retry-After": {"-3"}}, ``, 0, false},
		{"negative body", nil, `{"retry_after_ms":-1}`, 0, false},
		{"fractional ms", nil, `{"retry_after_ms":1.5}`, 1500 * time.Microsecond, true},
		{"huge header capped", http.Header{"Retry-After": {"9999999999"}}, ``, MaxRetryAfter, true},
		{"overflowing header", http.Header{"Retry-After": {"99999999999999999999"}}, `{"retry_after_ms":10}`, 10 * time.Millisecond, true},
		{"huge body capped", nil, `{"retry_after_ms":1e300}`, MaxRetryAfter, true},
		{"not JSON", nil, `<html>429</html>`, 0, false},
	}
	for _, c := range cases {
		got, ok := RetryAfter(c.header, []byte(c.body))
		if got != c.want || ok != c.ok {
			t.Errorf("%s: got %v, %v; want %v, %v", c.name, got, ok, c.want, c.ok)
		}
		if e := ParseError(429, c.header, []byte(c.body)); e.RetryAfter != c.want {
			t.Errorf("%s: ParseError RetryAfter %v, want %v", c.name, e.RetryAfter, c.want)
		}
	}
}

func TestParseError(t *testing.T) {
	e := ParseError(404, nil, []byte(`{"errcode":"M_NOT_FOUND","error":"no\nsuch   thing"}`))
	if e.Status != 404 || e.Errcode != "M_NOT_FOUND" || e.Message != "no such thing" || e.RetryAfter != 0 {
		t.Fatalf("%+v", e)
	}
	if s := e.Error(); s != "matrix: server answered HTTP 404 M_NOT_FOUND: no such thing" {
		t.Fatal(s)
	}
	// The 2024 rendezvous's code beside M_UNKNOWN wins; a real code stays.
	if e := ParseError(412, nil, []byte(`{"errcode":"M_UNKNOWN","org.matrix.msc4108.errcode":"M_CONCURRENT_WRITE"}`)); e.Errcode != "M_CONCURRENT_WRITE" {
		t.Fatalf("%+v", e)
	}
	if e := ParseError(412, nil, []byte(`{"errcode":"M_FORBIDDEN","org.matrix.msc4108.errcode":"M_CONCURRENT_WRITE"}`)); e.Errcode != "M_FORBIDDEN" {
		t.Fatalf("%+v", e)
	}
	if e := ParseError(502, nil, []byte(`<html>bad gateway</html>`)); e.Errcode != "" || e.Message != "" || e.Error() != "matrix: server answered HTTP 502" {
		t.Fatalf("%+v %s", e, e)
	}
	long := ParseError(400, nil, []byte(`{"errcode":"`+strings.Repeat("E", 100)+`","error":"`+strings.Repeat("é", 150)+`"}`))
	if len(long.Errcode) != maxErrcodeLen+len("…") || len(long.Message) > maxMessageLen+len("…") || !strings.HasSuffix(long.Message, "…") {
		t.Fatalf("not bounded: %d %d", len(long.Errcode), len(long.Message))
	}
	if strings.ContainsRune(long.Message, '\uFFFD') || !strings.HasPrefix(long.Message, "é") {
		t.Fatal("cut inside a rune")
	}
}

// FuzzParseError: any answer gives a bounded one-line message and a wait
// within [0, MaxRetryAfter], whatever the Retry-After and Date headers say.
func FuzzParseError(f *testing.F) {
	f.Add(429, []byte(`{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":2000}`), "", "")
	f.Add(412, []byte(`{"errcode":"M_UNKNOWN","org.matrix.msc4108.errcode":"M_CONCURRENT_WRITE"}`), "", "")
	f.Add(502, []byte(`<html>502</html>`), "120", "")
	f.Add(429, []byte(`{"retry_after_ms":-1}`), "-3", "")
	f.Add(429, []byte(`{"errcode":"M_LIMIT_EXCEEDED","error":"x","retry_after_ms":1e300}`), "99999999999999999999", "")
	f.Add(429, []byte(``), "Fri, 27 Nov 2026 11:00:00 GMT", "Fri, 27 Nov 2026 10:59:58 GMT")
	f.Fuzz(func(t *testing.T, status int, body []byte, retryAfter, date string) {
		e := ParseError(status, http.Header{"Retry-After": {retryAfter}, "Date": {date}}, body)
		if len(e.Message) > maxMessageLen+len("…") || strings.ContainsAny(e.Message, "\n\r") {
			t.Fatalf("message not bounded to one short line: %q", e.Message)
		}
		if e.RetryAfter < 0 || e.RetryAfter > MaxRetryAfter {
			t.Fatalf("wait %v out of bounds", e.RetryAfter)
		}
		_ = e.Error()
	})
}

// TestClip: text from another party is put on one line and cut on a rune
// boundary, so an error message stays valid UTF-8.
func TestClip(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"two\nlines\t here", 40, "two lines here"},
		{"abcdef", 3, "abc…"},
		{"ééé", 3, "é…"}, // a cut inside the second é moves before it
		{"ééé", 4, "éé…"},
	} {
		got := Clip(tc.in, tc.n)
		if got != tc.want || !utf8.ValidString(got) {
			t.Errorf("Clip(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
