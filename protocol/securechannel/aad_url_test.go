package securechannel

import (
	"errors"
	"strings"
	"testing"
)

// What Rust's url crate (WHATWG URL Standard) serialises for each input,
// which is what rust-sdk binds into the AAD (docs/protocol-divergences.md
// "Base URL in the AAD").
var baseURLCases = []struct{ in, want string }{
	{"https://matrix-client.matrix.org", "https://matrix-client.matrix.org/"},
	{"https://matrix-client.matrix.org/", "https://matrix-client.matrix.org/"},
	{"HTTPS://Matrix.ORG", "https://matrix.org/"},
	{"https://matrix.org:443", "https://matrix.org/"},
	{"http://matrix.org:80/", "http://matrix.org/"},
	{"http://matrix.org:443", "http://matrix.org:443/"},
	{"https://matrix.org:8448", "https://matrix.org:8448/"},
	{"https://matrix.org:08448", "https://matrix.org:8448/"},
	{"https://matrix.org:0443", "https://matrix.org/"},
	{"https://matrix.org:", "https://matrix.org/"},
	{"  https://matrix.org/\n", "https://matrix.org/"},
	{"https://mat\trix.o\nrg", "https://matrix.org/"},
	{"https://example.org/matrix", "https://example.org/matrix"},
	{"https://example.org/matrix/", "https://example.org/matrix/"},
	{"https://example.org/a/./b/../c", "https://example.org/a/c"},
	{"https://example.org/a/%2e%2E/c", "https://example.org/c"},
	{"https://example.org/a/..", "https://example.org/"},
	{"https://example.org/a/.", "https://example.org/a/"},
	{"https://example.org/..", "https://example.org/"},
	{`https://example.org\path\x`, "https://example.org/path/x"},
	{"https:example.org", "https://example.org/"},
	{"https:///example.org", "https://example.org/"},
	{"https://example.org/a b", "https://example.org/a%20b"},
	{"https://example.org/\u00fc", "https://example.org/%C3%BC"},
	{"https://example.org/%7e", "https://example.org/%7e"},
	{"https://example.org/{x}`^|", "https://example.org/%7Bx%7D%60^|"},
	{"https://b\u00fccher.example", "https://xn--bcher-kva.example/"},
	{"https://B\u00dcCHER.example", "https://xn--bcher-kva.example/"},
	{"https://fa\u00df.de", "https://xn--fa-hia.de/"},
	{"https://XN--BCHER-KVA.example", "https://xn--bcher-kva.example/"},
	{"https://EXAMPLE.org.", "https://example.org./"},
	{"https://%65xample.org", "https://example.org/"},
	{"https://under_score.example", "https://under_score.example/"},
	{"http://127.0.0.1:8008", "http://127.0.0.1:8008/"},
	{"http://0x7f.1", "http://127.0.0.1/"},
	{"http://2130706433", "http://127.0.0.1/"},
	{"http://0177.0.0.1.", "http://127.0.0.1/"},
	{"http://[::1]:8008", "http://[::1]:8008/"},
	{"http://[0:0:0:0:0:0:0:1]", "http://[::1]/"},
	{"http://[2001:DB8::0:1]", "http://[2001:db8::1]/"},
	{"http://[::ffff:1.2.3.4]", "http://[::ffff:102:304]/"},
	{"http://[1:0:0:2:0:0:0:3]", "http://[1:0:0:2::3]/"},
	{"http://[1:0:0:2:0:0:3:4]", "http://[1::2:0:0:3:4]/"},
	{"http://[1:2:3:4:5:6:7:0]", "http://[1:2:3:4:5:6:7:0]/"},
}

var badBaseURLs = []string{
	"",
	"matrix.org",
	"//matrix.org",
	"ftp://matrix.org",
	"1https://matrix.org",
	"https://",
	"https:///",
	"https://user@matrix.org",
	"https://user:pw@matrix.org",
	"https://matrix.org?x=1",
	"https://matrix.org/#frag",
	"https://matrix.org:99999",
	"https://matrix.org:65536",
	"https://matrix.org:12a",
	"https://matrix.org:-1",
	"https://exa mple.org",
	"https://exa%20mple.org",
	"https://ex%00ample.org",
	"https://ex%ample.org",
	"https://a<b.org",
	"https://%ff.org",
	"http://1.2.3.4.5",
	"http://256.0.0.1",
	"http://1.2.3.09",
	"http://0x100000000",
	"http://[::1",
	"http://[::1]x",
	"http://[1.2.3.4]",
	"http://[fe80::1%25eth0]",
	"http://[::1]:port",
}

func TestNormalizeBaseURL(t *testing.T) {
	for _, c := range baseURLCases {
		got, err := NormalizeBaseURL(c.in)
		if err != nil || got != c.want {
			t.Errorf("NormalizeBaseURL(%q) = %q, %v; want %q", c.in, got, err, c.want)
			continue
		}
		again, err := NormalizeBaseURL(got)
		if err != nil || again != got {
			t.Errorf("not idempotent: %q -> %q -> %q, %v", c.in, got, again, err)
		}
	}
	for _, in := range badBaseURLs {
		got, err := NormalizeBaseURL(in)
		if err == nil {
			t.Errorf("NormalizeBaseURL(%q) = %q, want an error", in, got)
			continue
		}
		if !errors.Is(err, ErrBaseURL) || !errors.Is(err, ErrAAD) {
			t.Errorf("NormalizeBaseURL(%q): %v is not ErrBaseURL/ErrAAD", in, err)
		}
	}
}

func FuzzNormalizeBaseURL(f *testing.F) {
	for _, c := range baseURLCases {
		f.Add(c.in)
	}
	for _, in := range badBaseURLs {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := NormalizeBaseURL(in)
		if err != nil {
			if !errors.Is(err, ErrBaseURL) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if !strings.HasPrefix(got, "https://") && !strings.HasPrefix(got, "http://") {
			t.Fatalf("%q -> %q", in, got)
		}
		again, err := NormalizeBaseURL(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", in, got, again, err)
		}
		// The serialisation is printable ASCII: everything else is
		// percent-encoded or punycoded. (A stray '%' stays, as in WHATWG,
		// so net/url may refuse it.)
		for i := 0; i < len(got); i++ {
			if got[i] <= ' ' || got[i] >= 0x7f {
				t.Fatalf("%q -> %q has byte %#x", in, got, got[i])
			}
		}
	})
}
