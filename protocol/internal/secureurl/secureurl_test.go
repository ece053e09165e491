package secureurl

import (
	"errors"
	"testing"
)

func TestCheck(t *testing.T) {
	ok := []string{
		"https://matrix.example.org", "https://matrix.example.org:8448/", "HTTPS://matrix.example.org/x",
		"http://127.0.0.1:8008", "http://127.1.2.3", "http://[::1]:8008/", "http://localhost:8008", "http://LOCALHOST",
		"http://localhost./",
	}
	bad := []string{
		"http://matrix.example.org", "HTTP://matrix.example.org", "http://10.0.0.1", "http://[::2]/", "ftp://127.0.0.1",
		"https://", "matrix.example.org", "", "http://localhost.evil.example", "http://127.0.0.1.evil.example",
		"https://user:pw@example.org", "javascript:alert(1)", "https://%zz", "//matrix.example.org/x",
	}
	for _, u := range ok {
		if _, err := Check(u); err != nil {
			t.Errorf("Check(%q) = %v, want ok", u, err)
		}
	}
	for _, u := range bad {
		if _, err := Check(u); !errors.Is(err, ErrInsecure) {
			t.Errorf("Check(%q) = %v, want ErrInsecure", u, err)
		}
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{"https://matrix.org", "http://127.0.0.1:8008", "http://[::1]/", "http://localhost",
		"http://example.org", "http://127.0.0.1@evil.example", "http://[::ffff:127.0.0.1]/", "https://%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := Check(raw)
		if err != nil {
			if !errors.Is(err, ErrInsecure) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if u.Host == "" || u.User != nil || (u.Scheme != "https" && !(u.Scheme == "http" && IsLoopbackHost(u.Hostname()))) {
			t.Fatalf("accepted %q", raw)
		}
	})
}
