package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/qrlogin/qrlogin/protocol/internal/httpx"
)

// response is one bounded HTTP answer.
type response struct {
	status int
	body   []byte
}

// send performs req with ctx and reads at most maxBodyBytes of the answer.
// Transport failures come back wrapped; HTTP statuses are for the caller.
func send(ctx context.Context, hc *http.Client, req *http.Request) (*response, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	req = req.WithContext(ctx)
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, &transportError{fmt.Errorf("oauth: %s %s: %w", req.Method, req.URL.Redacted(), err)}
	}
	defer resp.Body.Close()
	body, err := httpx.ReadBody(resp.Body, maxBodyBytes)
	if errors.Is(err, httpx.ErrBodyTooLarge) {
		return nil, fmt.Errorf("oauth: answer from %s is larger than %d bytes", req.URL.Redacted(), maxBodyBytes)
	}
	if err != nil {
		return nil, &transportError{fmt.Errorf("oauth: reading %s: %w", req.URL.Redacted(), err)}
	}
	return &response{status: resp.StatusCode, body: body}, nil
}

// postForm sends an application/x-www-form-urlencoded POST (RFC 6749 §3.2,
// RFC 8628 §3.1, RFC 7009 §2.1).
func postForm(ctx context.Context, hc *http.Client, endpoint string, form url.Values) (*response, error) {
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("oauth: bad endpoint URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return send(ctx, hc, req)
}

// postJSON sends a JSON POST (RFC 7591 §3.1).
func postJSON(ctx context.Context, hc *http.Client, endpoint string, v any) (*response, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, endpoint, bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("oauth: bad endpoint URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	return send(ctx, hc, req)
}

// get sends a GET.
func get(ctx context.Context, hc *http.Client, endpoint string) (*response, error) {
	req, err := http.NewRequest(http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, fmt.Errorf("oauth: bad URL: %w", err)
	}
	return send(ctx, hc, req)
}

// transportError marks a failure to get an HTTP answer at all (as opposed to
// an answer we did not like); only these are worth retrying.
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }
