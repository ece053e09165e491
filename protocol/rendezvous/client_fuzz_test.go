package rendezvous

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/protocol/internal/secureurl"
)

// The fuzz targets feed server-controlled bytes to every response parser
// of the clients: they must return a value or a typed error, never panic.

func FuzzParseMSC4388Responses(f *testing.F) {
	f.Add([]byte(`{"id":"abcdEFG12345","sequence_token":"VmbxF13QDusTgOCt8aoa0d2PQcnBOXeIxEqhw5aQ03o=","expires_in_ms":300000}`))
	f.Add([]byte(`{"data":"x","sequence_token":"t","expires_in_ms":1}`))
	f.Add([]byte(`{"sequence_token":"t"}`))
	f.Add([]byte(`{"create_available":true}`))
	f.Add([]byte(`{"expires_in_ms":1e400}`))
	f.Add([]byte(`{"data":"\ud800","sequence_token":"","expires_in_ms":-5}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		check := func(err error) {
			if err != nil && !errors.Is(err, ErrMalformedResponse) {
				t.Fatalf("untyped error %v", err)
			}
		}
		_, err := parseDiscovery(body)
		check(err)
		c, err := parseMSC4388Create(body)
		check(err)
		if err == nil && (c.ID == "" || c.SequenceToken == "" || c.ExpiresInMS < 0 || c.ExpiresInMS > maxExpiresInMS) {
			t.Fatalf("accepted invalid create answer %+v", c)
		}
		g, err := parseMSC4388Get(body)
		check(err)
		if err == nil && (g.SequenceToken == "" || g.ExpiresInMS < 0 || g.ExpiresInMS > maxExpiresInMS) {
			t.Fatalf("accepted invalid get answer %+v", g)
		}
		tok, err := parseMSC4388Put(body)
		check(err)
		if err == nil && tok == "" {
			t.Fatal("accepted empty token")
		}
	})
}

func FuzzParseMatrixError(f *testing.F) {
	f.Add([]byte(`{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":2000}`))
	f.Add([]byte(`{"errcode":"M_UNKNOWN","org.matrix.msc4108.errcode":"M_CONCURRENT_WRITE"}`))
	f.Add([]byte(`<html>502</html>`))
	f.Add([]byte(`{"retry_after_ms":-1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, status := range []int{400, 401, 403, 404, 409, 412, 413, 429, 500} {
			for _, op := range []opKind{opSession, opCreate} {
				e := newHTTPError(op, status, body)
				if len(e.Message) > 200+len("…") || strings.ContainsAny(e.Message, "\n\r") {
					t.Fatalf("message not bounded to one short line: %q", e.Message)
				}
				_ = e.Error()
			}
		}
		ex := &exchange{status: 429, header: map[string][]string{}, body: body}
		if w := rateLimitWait(ex, time.Second, 10*time.Millisecond); w < 0 || w > time.Second {
			t.Fatalf("rate-limit wait %v out of bounds", w)
		}
	})
}

// TestRateLimitWait: the server's wait (httpx.RetryAfter) bounded by our
// limit, our backoff when it names none.
func TestRateLimitWait(t *testing.T) {
	const limit, fallback = 5 * time.Second, 7 * time.Millisecond
	cases := []struct {
		header map[string][]string
		body   string
		want   time.Duration
	}{
		{map[string][]string{"Retry-After": {"1"}}, ``, time.Second},
		{map[string][]string{"Retry-After": {"0"}}, ``, 0},
		{map[string][]string{"Retry-After": {"3600"}}, ``, limit},
		{map[string][]string{"Retry-After": {"99999999999999999999"}}, ``, fallback},
		{nil, `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":150}`, 150 * time.Millisecond},
		{nil, `{"retry_after_ms":1e300}`, limit},
		{nil, `{"retry_after_ms":-1}`, fallback},
		{nil, `<html>429</html>`, fallback},
	}
	for _, c := range cases {
		ex := &exchange{status: 429, header: c.header, body: []byte(c.body)}
		if got := rateLimitWait(ex, limit, fallback); got != c.want {
			t.Errorf("%v %s: wait %v, want %v", c.header, c.body, got, c.want)
		}
	}
}

func FuzzParse2024Create(f *testing.F) {
	f.Add(`{"url":"https://hs.example/_synapse/client/rendezvous/01HX"}`, "")
	f.Add(``, "e8da6355-550b-4a32-a193-1619d9830668")
	f.Add(`{"url":"/relative"}`, "")
	f.Add(`{"url":"://bad"}`, "")
	f.Add(`{"url":null}`, "x")
	base, _ := url.Parse("https://rendezvous.example/base/")
	f.Fuzz(func(t *testing.T, body, location string) {
		u, err := parse2024CreateURL(base, location, []byte(body))
		if err != nil && !errors.Is(err, ErrMalformedResponse) {
			t.Fatalf("untyped error %v", err)
		}
		if err == nil && u == "" {
			t.Fatal("empty session URL accepted")
		}
	})
}

func FuzzParse2024TTL(f *testing.F) {
	f.Add("Fri, 27 Nov 2026 11:01:00 GMT", "Fri, 27 Nov 2026 11:00:00 GMT")
	f.Add("Thu, 01 Jan 1970 00:00:00 GMT", "Fri, 27 Nov 2026 11:00:00 GMT")
	f.Add("0", "")
	f.Add("Friday, 27-Nov-26 11:01:00 GMT", "Fri Nov 27 11:00:00 2026")
	f.Fuzz(func(t *testing.T, expires, date string) {
		ttl, ok := parse2024TTL(expires, date)
		if ok && (ttl <= 0 || ttl > time.Hour) {
			t.Fatalf("ttl %v accepted", ttl)
		}
		_ = isPlainText(expires)
	})
}

func FuzzParseDiscoveryDocuments(f *testing.F) {
	f.Add([]byte(`{"versions":["v1.11"],"unstable_features":{"org.matrix.msc4108":true}}`))
	f.Add([]byte(`{"m.homeserver":{"base_url":"https://matrix-client.matrix.org"}}`))
	f.Add([]byte(`{"unstable_features":{"org.matrix.msc4108":"yes"}}`))
	f.Add([]byte(`{"m.homeserver":{"base_url":7}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err := parseVersionsFeature(body, Feature2024)
		if err != nil && !errors.Is(err, ErrMalformedResponse) {
			t.Fatalf("untyped error %v", err)
		}
		if base, ok := parseWellKnown(body); ok && base == "" {
			t.Fatal("empty base_url accepted")
		}
	})
}

func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"https://matrix.org", "http://127.0.0.1:8008", "http://[::1]/", "http://localhost",
		"http://example.org", "http://127.0.0.1@evil.example", "http://[::ffff:127.0.0.1]/", "https://%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := CheckURL(raw)
		if err != nil {
			if !errors.Is(err, ErrInsecureURL) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if u.Scheme != "https" && !(u.Scheme == "http" && secureurl.IsLoopbackHost(u.Hostname())) {
			t.Fatalf("accepted %q", raw)
		}
	})
}
