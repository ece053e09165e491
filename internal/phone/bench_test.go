package phone

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
)

// hopRecorder measures rendezvous hops: the time from one side's write
// (PUT) of a payload to the other side's first read (GET) that returns it,
// matched by the version the server gave the write (MSC4388
// sequence_token, 2024 ETag). It sits in each side's HTTP transport, so it
// measures exactly what the devices experience on loopback.
type hopRecorder struct {
	mu     sync.Mutex
	writes map[string]hopWrite
	hops   map[string][]time.Duration // by reading side
}

type hopWrite struct {
	side string
	at   time.Time
	read bool
}

func newHopRecorder() *hopRecorder {
	return &hopRecorder{writes: map[string]hopWrite{}, hops: map[string][]time.Duration{}}
}

// client is an HTTP client for one side ("desktop" or "phone").
func (r *hopRecorder) client(side string) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &hopTransport{side: side, rec: r, base: http.DefaultTransport}}
}

func (r *hopRecorder) wrote(side, version string, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes[version] = hopWrite{side: side, at: at}
}

func (r *hopRecorder) readVersion(side, version string, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.writes[version]
	if !ok || w.read || w.side == side {
		return
	}
	w.read = true
	r.writes[version] = w
	r.hops[side] = append(r.hops[side], at.Sub(w.at))
}

// medianMS is the median hop in milliseconds of the given reading sides.
func (r *hopRecorder) medianMS(sides ...string) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var all []time.Duration
	for _, s := range sides {
		all = append(all, r.hops[s]...)
	}
	if len(all) == 0 {
		return 0
	}
	slices.Sort(all)
	m := all[len(all)/2]
	if len(all)%2 == 0 {
		m = (all[len(all)/2-1] + all[len(all)/2]) / 2
	}
	return float64(m) / float64(time.Millisecond)
}

type hopTransport struct {
	side string
	rec  *hopRecorder
	base http.RoundTripper
}

func (t *hopTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || !strings.Contains(req.URL.Path, "/rendezvous") || resp.StatusCode/100 != 2 {
		return resp, err
	}
	if req.Method != http.MethodPut && req.Method != http.MethodGet {
		return resp, nil // creation and deletion are no hops
	}
	at := time.Now()
	version := resp.Header.Get("ETag")
	if version == "" { // MSC4388: the sequence token is in the JSON body
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if rerr != nil {
			return resp, nil
		}
		var v struct {
			SequenceToken string `json:"sequence_token"`
		}
		_ = json.Unmarshal(body, &v)
		version = v.SequenceToken
	}
	if version == "" {
		return resp, nil
	}
	if req.Method == http.MethodPut {
		t.rec.wrote(t.side, version, at)
	} else {
		t.rec.readVersion(t.side, version, at)
	}
	return resp, nil
}

// BenchmarkHeadlessLogin is the end-to-end sign-in on loopback
// (docs/build-notes.md "Benchmarks"): the desktop flow (package login,
// product poll intervals) and a scripted phone that answers at once,
// device-grant interval 1 s. ns/op is one whole sign-in; hop-ms is the median
// time from a write on the rendezvous to the other side reading it,
// desktop-hop-ms the same for the hops the desktop reads (its PaceReply
// polling; target < 300 ms).
func BenchmarkHeadlessLogin(b *testing.B) {
	for _, gen := range generations {
		b.Run(string(gen), func(b *testing.B) {
			srv := startDevServer(b, devserver.Config{PollInterval: time.Second})
			rec := newHopRecorder()
			phonePoll := rendezvous.PollConfig{Reply: 250 * time.Millisecond, Human: 250 * time.Millisecond}
			for b.Loop() {
				p := pair(b, srv, pairOptions{gen: gen, productPoll: true, phonePoll: phonePoll,
					flowHTTP: rec.client("desktop"), phoneHTTP: rec.client("phone")})
				if p.flowErr != nil || p.phoneErr != nil {
					b.Fatalf("flow: %v; phone: %v", p.flowErr, p.phoneErr)
				}
			}
			b.ReportMetric(rec.medianMS("desktop", "phone"), "hop-ms")
			b.ReportMetric(rec.medianMS("desktop"), "desktop-hop-ms")
			b.ReportMetric(rec.medianMS("phone"), "phone-hop-ms")
		})
	}
}
