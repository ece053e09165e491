package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe to write from the command while the
// test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestDevServerCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- Dispatch(ctx, []string{"dev-server", "--listen", "127.0.0.1:0", "--interval", "1", "--device-code-ttl", "30s"},
			Stdio{Out: &bytes.Buffer{}, Err: &stderr}, FrontEnds{})
	}()

	urlLine := regexp.MustCompile(`homeserver (http://127\.0\.0\.1:\d+)\n`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := urlLine.FindStringSubmatch(stderr.String()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		t.Fatalf("no base URL printed: %q", stderr.String())
	}
	if !strings.Contains(stderr.String(), "consent page "+base+"/link") {
		t.Fatalf("no consent URL printed: %q", stderr.String())
	}
	resp, err := http.Get(base + "/_matrix/client/versions")
	if err != nil {
		t.Fatal(err)
	}
	var versions map[string]any
	err = json.NewDecoder(resp.Body).Decode(&versions)
	resp.Body.Close()
	if err != nil || versions["unstable_features"] == nil {
		t.Fatalf("versions %v %v", versions, err)
	}

	cancel()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Fatalf("exit %d; stderr %q", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("dev-server did not stop on cancel")
	}
}

func TestDevServerRefusesNonLoopback(t *testing.T) {
	for _, args := range [][]string{
		{"dev-server", "--listen", "0.0.0.0:8008"},
		{"dev-server", "--listen", "example.org:8008"},
		{"dev-server", "--interval", "0"},
		{"dev-server", "--msc4388", "sometimes", "--listen", "127.0.0.1:0"},
		{"dev-server", "extra"},
	} {
		var stderr bytes.Buffer
		if code := Dispatch(context.Background(), args, Stdio{Out: &bytes.Buffer{}, Err: &stderr}, FrontEnds{}); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, ExitUsage, stderr.String())
		}
	}
}
