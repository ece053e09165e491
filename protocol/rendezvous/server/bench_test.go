package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/protocol/rendezvous"
)

// benchUnlimited is a configuration with every abuse limit lifted, so a
// benchmark measures the server, not its guards.
func benchUnlimited() Config {
	return Config{MaxSessions: -1, Rate: RequestRate{}, TTL: time.Hour}
}

// benchStart serves cfg on 127.0.0.1 with a keep-alive client sized for
// parallel benchmarks.
func benchStart(b *testing.B, cfg Config) (*httptest.Server, *http.Client) {
	s := New(cfg)
	ts := httptest.NewServer(s)
	b.Cleanup(func() { ts.Close(); s.Close() })
	transport := ts.Client().Transport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64
	return ts, &http.Client{Transport: transport}
}

func benchDo(b *testing.B, client *http.Client, req *http.Request, want int) []byte {
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || resp.StatusCode != want {
		b.Fatalf("%s %s: %d %s (%v)", req.Method, req.URL.Path, resp.StatusCode, body, err)
	}
	return body
}

// BenchmarkMSC4388Cycle measures create+put+get+delete cycles over
// loopback HTTP, in parallel; ns/op is per cycle (four requests).
func BenchmarkMSC4388Cycle(b *testing.B) {
	ts, client := benchStart(b, benchUnlimited())
	base := ts.URL + pathMSC4388Unstable
	payload := strings.Repeat("x", 1024)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, base, strings.NewReader(`{"data":"`+payload+`"}`))
			var created struct {
				ID    string `json:"id"`
				Token string `json:"sequence_token"`
			}
			if err := json.Unmarshal(benchDo(b, client, req, http.StatusOK), &created); err != nil {
				b.Fatal(err)
			}
			req, _ = http.NewRequest(http.MethodPut, base+"/"+created.ID, strings.NewReader(`{"sequence_token":"`+created.Token+`","data":"reply"}`))
			benchDo(b, client, req, http.StatusOK)
			req, _ = http.NewRequest(http.MethodGet, base+"/"+created.ID, nil)
			benchDo(b, client, req, http.StatusOK)
			req, _ = http.NewRequest(http.MethodDelete, base+"/"+created.ID, nil)
			benchDo(b, client, req, http.StatusOK)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cycles/s")
}

// BenchmarkETagCycle is the same for the 2024 API.
func BenchmarkETagCycle(b *testing.B) {
	ts, client := benchStart(b, benchUnlimited())
	payload := strings.Repeat("x", 1024)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, ts.URL+pathETagCreate, strings.NewReader(payload))
			req.Header.Set("Content-Type", "text/plain")
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var created struct {
				URL string `json:"url"`
			}
			err = json.NewDecoder(resp.Body).Decode(&created)
			_ = resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusCreated {
				b.Fatalf("create: %d %v", resp.StatusCode, err)
			}
			etag := resp.Header.Get("ETag")
			req, _ = http.NewRequest(http.MethodPut, created.URL, strings.NewReader("reply"))
			req.Header.Set("Content-Type", "text/plain")
			req.Header.Set("If-Match", etag)
			benchDo(b, client, req, http.StatusAccepted)
			req, _ = http.NewRequest(http.MethodGet, created.URL, nil)
			req.Header.Set("If-None-Match", etag)
			benchDo(b, client, req, http.StatusOK)
			req, _ = http.NewRequest(http.MethodDelete, created.URL, nil)
			benchDo(b, client, req, http.StatusNoContent)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cycles/s")
}

// BenchmarkSessionMemory creates 10 000 live sessions per
// generation and payload size and reports the heap they hold, per
// session (the payload included).
func BenchmarkSessionMemory(b *testing.B) {
	const sessions = 10000
	for _, size := range []int{0, 1024, rendezvous.MaxPayload} {
		for _, generation := range []string{"msc4388", "etag"} {
			b.Run(fmt.Sprintf("%s/payload=%d", generation, size), func(b *testing.B) {
				payload := strings.Repeat("x", size)
				var perSession float64
				for b.Loop() {
					server := New(benchUnlimited())
					runtime.GC()
					var before, after runtime.MemStats
					runtime.ReadMemStats(&before)
					for range sessions {
						var req *http.Request
						if generation == "msc4388" {
							req = httptest.NewRequest(http.MethodPost, pathMSC4388Unstable, strings.NewReader(`{"data":"`+payload+`"}`))
						} else {
							req = httptest.NewRequest(http.MethodPost, pathETagCreate, strings.NewReader(payload))
							req.Header.Set("Content-Type", "text/plain")
							req.Header.Set("Content-Length", fmt.Sprint(size))
						}
						rec := httptest.NewRecorder()
						server.ServeHTTP(rec, req)
						if rec.Code != http.StatusOK && rec.Code != http.StatusCreated {
							b.Fatalf("create: %d %s", rec.Code, rec.Body)
						}
					}
					runtime.GC()
					runtime.ReadMemStats(&after)
					if n := server.store.size(); n != sessions {
						b.Fatalf("%d sessions stored", n)
					}
					perSession = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / sessions
					runtime.KeepAlive(server)
					server.Close()
				}
				b.ReportMetric(perSession, "bytes/session")
			})
		}
	}
}
