package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestPollRetriesServerErrors: 5xx and 429 answers from the token endpoint
// (found by the end-to-end tests with the dev server's fault injection)
// do not end the device flow; a server that keeps failing does.
func TestPollRetriesServerErrors(t *testing.T) {
	for _, c := range []struct {
		name    string
		answers []int // status per poll; 0 = tokens
		wantErr bool
	}{
		{"500 then tokens", []int{500, 0}, false},
		{"429 with a Matrix body then tokens", []int{429, 0}, false},
		{"502, 503 then tokens", []int{502, 503, 0}, false},
		{"500 three times", []int{500, 500, 500, 0}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var polls atomic.Int32
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				i := int(polls.Add(1)) - 1
				w.Header().Set("Content-Type", "application/json")
				if i < len(c.answers) && c.answers[i] != 0 {
					w.WriteHeader(c.answers[i])
					_, _ = w.Write([]byte(`{"errcode":"M_LIMIT_EXCEEDED","error":"Too Many Requests"}`))
					return
				}
				_, _ = w.Write([]byte(`{"access_token":"at","token_type":"Bearer","expires_in":300,"refresh_token":"rt"}`))
			}))
			defer ts.Close()
			p := &Poller{
				Client: &Client{HTTP: ts.Client(), Metadata: &Metadata{TokenEndpoint: ts.URL}, ClientID: "c"},
				Sleep:  func(context.Context, time.Duration) error { return nil },
			}
			tok, err := p.Poll(context.Background(), &DeviceAuthorization{DeviceCode: "d", ExpiresIn: time.Minute, Interval: time.Second})
			if c.wantErr {
				var oe *Error
				if !errors.As(err, &oe) || oe.Status != 500 {
					t.Fatalf("Poll = %v, %v; want the 500", tok, err)
				}
				return
			}
			if err != nil || tok.AccessToken != "at" {
				t.Fatalf("Poll = %v, %v", tok, err)
			}
		})
	}
}
