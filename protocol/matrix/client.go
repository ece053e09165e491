package matrix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/qrlogin/qrlogin/protocol/internal/httpx"
)

// Bounds for what we read and how long we let the server make us wait.
const (
	maxResponseBytes   = 4 << 20 // a /keys/query answer for one user is a few KiB
	defaultMaxRetries  = 3
	defaultMaxWait     = 10 * time.Second
	defaultRetryBackof = time.Second
)

// Client is a minimal Matrix client-server API client for one account.
// String never prints the access token.
type Client struct {
	HTTP    *http.Client // nil means http.DefaultClient
	BaseURL string       // homeserver base URL, e.g. https://matrix.example.org

	// MaxRetries is how often a 429 M_LIMIT_EXCEEDED is retried (default 3);
	// MaxRetryWait the longest retry_after_ms we honour (default 10 s) —
	// a longer one is returned as the *Error instead of waiting.
	MaxRetries   int
	MaxRetryWait time.Duration
	// Sleep waits between retries; nil means a context-aware timer.
	Sleep func(ctx context.Context, d time.Duration) error

	accessToken string
}

// NewClient returns a client for baseURL that authenticates with
// accessToken (Matrix spec "Using access tokens": Authorization: Bearer).
func NewClient(hc *http.Client, baseURL, accessToken string) *Client {
	return &Client{HTTP: hc, BaseURL: strings.TrimRight(baseURL, "/"), accessToken: accessToken}
}

// SetAccessToken replaces the token after an OAuth refresh.
func (c *Client) SetAccessToken(t string) { c.accessToken = t }

func (c *Client) String() string {
	return fmt.Sprintf("matrix.Client{BaseURL:%q AccessToken:[redacted]}", c.BaseURL)
}

// GoString keeps %#v from printing the token.
func (c *Client) GoString() string { return c.String() }

// Error is a Matrix standard error response (Matrix spec "Standard error
// response") or any non-success answer; Errcode is empty when the body was
// not a Matrix error object. It is the one Matrix error type the protocol
// clients share, named here for callers outside protocol/.
type Error = httpx.Error

// IsNotFound reports whether err is a 404 from the server.
func IsNotFound(err error) bool {
	var me *Error
	return errors.As(err, &me) && me.Status == http.StatusNotFound
}

// do sends one authenticated request and decodes a 200 answer into out.
// 429 answers are retried after the wait they ask for (httpx.RetryAfter:
// the Retry-After header, else retry_after_ms; 1 s when they name none),
// at most MaxRetries times and never longer than MaxRetryWait each.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	maxRetries, maxWait := c.MaxRetries, c.MaxRetryWait
	if maxRetries == 0 {
		maxRetries = defaultMaxRetries
	}
	if maxWait == 0 {
		maxWait = defaultMaxWait
	}
	sleep := c.Sleep
	if sleep == nil {
		sleep = httpx.Sleep
	}
	for attempt := 0; ; attempt++ {
		status, header, respBody, err := c.roundTrip(ctx, method, path, body)
		if err != nil {
			return err
		}
		if status == http.StatusOK {
			if out == nil {
				return nil
			}
			if err := json.Unmarshal(respBody, out); err != nil {
				return fmt.Errorf("matrix: %s %s: answer is not the expected JSON: %w", method, path, err)
			}
			return nil
		}
		merr := httpx.ParseError(status, header, respBody)
		if status != http.StatusTooManyRequests || attempt >= maxRetries {
			return merr
		}
		if merr.RetryAfter <= 0 {
			merr.RetryAfter = defaultRetryBackof
		}
		wait := merr.RetryAfter
		if wait > maxWait {
			return merr
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

func (c *Client) roundTrip(ctx context.Context, method, path string, body []byte) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("matrix: bad request URL: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+c.accessToken)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("matrix: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := httpx.ReadBody(resp.Body, maxResponseBytes)
	if errors.Is(err, httpx.ErrBodyTooLarge) {
		return 0, nil, nil, fmt.Errorf("matrix: answer to %s is larger than %d bytes", path, maxResponseBytes)
	}
	if err != nil {
		return 0, nil, nil, fmt.Errorf("matrix: reading %s: %w", path, err)
	}
	return resp.StatusCode, resp.Header, b, nil
}

// pathEscape escapes one path segment (a device ID may contain '/' or '+',
// docs/protocol-divergences.md "Device ID").
func pathEscape(s string) string { return url.PathEscape(s) }
