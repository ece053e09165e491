package rendezvous

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// Path2024 is where a homeserver serves the 2024 MSC4108 rendezvous create
// endpoint (docs/protocol-divergences.md "2024 rendezvous").
const Path2024 = "/_matrix/client/unstable/org.matrix.msc4108/rendezvous"

// default2024TTL is assumed when a response does not let us compute the
// expiry: Synapse's fixed 60 s (docs/protocol-divergences.md "Session
// lifetime and clocks").
const default2024TTL = 60 * time.Second

// maxCreateRedirects bounds the 307s followed on create (Synapse's
// msc4108_delegation_endpoint answers one).
const maxCreateRedirects = 3

// ETagConfig configures an ETagClient.
type ETagConfig struct {
	// HomeserverURL is the homeserver base URL Create uses.
	HomeserverURL string
	// HTTPClient sends the requests; nil means a client with a 30 s timeout.
	HTTPClient *http.Client
	// DefaultTTL replaces the 60 s assumed when a response carries no
	// usable Expires/Date pair.
	DefaultTTL time.Duration
	Poll       PollConfig
	Retry      RetryPolicy
}

// ETagClient speaks the 2024 MSC4108 rendezvous API: text/plain bodies,
// ETag versioning with If-Match/If-None-Match, that released phones use.
type ETagClient struct {
	cfg ETagConfig
	t   transport
}

// NewETagClient returns a 2024 rendezvous client. HomeserverURL may be empty
// when only CreateAt and Join are used.
func NewETagClient(cfg ETagConfig) (*ETagClient, error) {
	if cfg.HomeserverURL != "" {
		if _, err := CheckURL(cfg.HomeserverURL); err != nil {
			return nil, err
		}
	}
	if cfg.DefaultTTL <= 0 {
		cfg.DefaultTTL = default2024TTL
	}
	return &ETagClient{cfg: cfg, t: newTransport(cfg.HTTPClient, cfg.Retry)}, nil
}

// Create creates a session on the homeserver.
func (c *ETagClient) Create(ctx context.Context) (*ETagSession, error) {
	if c.cfg.HomeserverURL == "" {
		return nil, errors.New("rendezvous: no homeserver URL configured")
	}
	return c.createAt(ctx, joinPath(c.cfg.HomeserverURL, Path2024))
}

// CreateAt creates a session on a configured standalone rendezvous server
// (matrix-org's node-http-rendezvous-server style, Element Web's fallback):
// it tries the homeserver path under serverURL first, then POSTs to
// serverURL as given.
func (c *ETagClient) CreateAt(ctx context.Context, serverURL string) (*ETagSession, error) {
	if _, err := CheckURL(serverURL); err != nil {
		return nil, err
	}
	s, err := c.createAt(ctx, joinPath(serverURL, Path2024))
	if err == nil || !errors.Is(err, ErrNotEnabled) {
		return s, err
	}
	return c.createAt(ctx, serverURL)
}

// createAt POSTs an empty text/plain body (as rust-sdk does) to target,
// re-POSTing to the Location of a 307/308 itself so no client setting can
// turn it into a GET, and reads the session URL from the 201.
func (c *ETagClient) createAt(ctx context.Context, target string) (*ETagSession, error) {
	t := c.t.noRedirects()
	for hop := 0; ; hop++ {
		if _, err := CheckURL(target); err != nil {
			return nil, err
		}
		ex, err := t.do(ctx, "rendezvous create", func(ctx context.Context) (*http.Request, error) {
			return newTextRequest(ctx, http.MethodPost, target, "")
		})
		if err != nil {
			return nil, err
		}
		switch ex.status {
		case http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			if hop >= maxCreateRedirects {
				return nil, malformed("too many redirects on create", nil)
			}
			loc, err := ex.url.Parse(ex.header.Get("Location"))
			if err != nil || ex.header.Get("Location") == "" {
				return nil, malformed("redirect without a usable Location", err)
			}
			target = loc.String()
			continue
		case http.StatusCreated, http.StatusOK:
		default:
			return nil, newHTTPError(opCreate, ex.status, ex.body)
		}
		sessionURL, err := parse2024CreateURL(ex.url, ex.header.Get("Location"), ex.body)
		if err != nil {
			return nil, err
		}
		if _, err := CheckURL(sessionURL); err != nil {
			return nil, err
		}
		etag := ex.header.Get("ETag")
		if etag == "" {
			return nil, ErrMissingETag
		}
		s := &ETagSession{c: c, url: sessionURL}
		s.adopt(etag, "")
		s.setExpiry(ex.header)
		return s, nil
	}
}

// Join opens a session by its URL (from a 2024 QR code) and reads it once
// without If-None-Match, as the scanner does; Send may follow.
func (c *ETagClient) Join(ctx context.Context, sessionURL string) (*ETagSession, error) {
	if _, err := CheckURL(sessionURL); err != nil {
		return nil, err
	}
	s := &ETagSession{c: c, url: sessionURL}
	ex, err := s.get(ctx, "")
	if err != nil {
		return nil, err
	}
	if ex.status != http.StatusOK {
		return nil, unexpected2024Status(ex)
	}
	etag := ex.header.Get("ETag")
	if etag == "" {
		return nil, ErrMissingETag
	}
	s.adopt(etag, string(ex.body))
	s.setExpiry(ex.header)
	return s, nil
}

// newTextRequest builds a request with a text/plain body. The header is set
// by hand to exactly "text/plain": Synapse compares it verbatim and answers
// 400 to "text/plain; charset=utf-8" (docs/protocol-divergences.md "2024
// rendezvous").
func newTextRequest(ctx context.Context, method, target, body string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader([]byte(body)))
	if err != nil {
		return nil, err
	}
	req.Header["Content-Type"] = []string{"text/plain"}
	return req, nil
}

// ETagSession is one device's view of a 2024 rendezvous session. It
// satisfies Session; Token is the ETag, echoed verbatim (quoted or not).
// Methods must be called in ping-pong order from one goroutine; Token,
// ExpiresAt and Payload may be read from any.
type ETagSession struct {
	c   *ETagClient
	url string
	sessionState
}

var _ Session = (*ETagSession)(nil)

// URL is the session URL (goes in the 2024 QR code).
func (s *ETagSession) URL() string { return s.url }

// setExpiry takes the expiry from Expires relative to the same response's
// Date, so a skewed server clock does not matter; without a usable pair it
// keeps what it had, or assumes the default TTL from now.
func (s *ETagSession) setExpiry(h http.Header) {
	if ttl, ok := parse2024TTL(h.Get("Expires"), h.Get("Date")); ok {
		s.expireIn(ttl, false)
		return
	}
	s.expireIn(s.c.cfg.DefaultTTL, true)
}

func (s *ETagSession) get(ctx context.Context, ifNoneMatch string) (*exchange, error) {
	return s.c.t.do(ctx, "rendezvous receive", func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
		if err == nil && ifNoneMatch != "" {
			req.Header["If-None-Match"] = []string{ifNoneMatch}
		}
		return req, err
	})
}

func unexpected2024Status(ex *exchange) error {
	if ex.status >= 300 && ex.status < 400 && ex.status != http.StatusNotModified {
		return malformed(fmt.Sprintf("unexpected HTTP %d", ex.status), nil)
	}
	return newHTTPError(opSession, ex.status, ex.body)
}

// Send replaces the payload: PUT with If-Match and the ETag we hold, 202
// with the new ETag; 412 is ErrConcurrentWrite. A lost response is retried
// with the identical PUT; if that meets 412, a GET showing our own payload
// means the first attempt landed, and its ETag is adopted.
func (s *ETagSession) Send(ctx context.Context, payload string) error {
	etag := s.Token()
	return s.write(ctx, payload, writeOps{
		put: func(ctx context.Context) (*exchange, error) {
			return s.c.t.do(ctx, "rendezvous send", func(ctx context.Context) (*http.Request, error) {
				req, err := newTextRequest(ctx, http.MethodPut, s.url, payload)
				if err == nil {
					req.Header["If-Match"] = []string{etag}
				}
				return req, err
			})
		},
		accepted: func(ex *exchange) (string, bool, error) {
			switch ex.status {
			case http.StatusAccepted, http.StatusOK, http.StatusNoContent:
			default:
				return "", false, nil
			}
			newTag := ex.header.Get("ETag")
			if newTag == "" {
				return "", true, ErrMissingETag
			}
			s.setExpiry(ex.header)
			return newTag, true, nil
		},
		conflict: http.StatusPreconditionFailed,
		reread: func(ctx context.Context) (string, string, error) {
			g, err := s.get(ctx, "")
			if err != nil || g.status != http.StatusOK || g.header.Get("ETag") == "" {
				return "", "", err
			}
			if string(g.body) == payload {
				s.setExpiry(g.header)
			}
			return g.header.Get("ETag"), string(g.body), nil
		},
		fail: unexpected2024Status,
	})
}

// Receive polls with If-None-Match until a 200 brings a non-empty text/plain
// payload under an ETag this device has not seen (rust-sdk's acceptance
// rule, docs/protocol-divergences.md "ETag handling"); 304 means nothing
// new. Synapse's ETags are content-addressed, so a peer writing
// byte-identical data to the last payload is invisible; the secure channel's
// payloads never repeat.
func (s *ETagSession) Receive(ctx context.Context, pace vocab.Pace) (string, error) {
	return s.poll(ctx, s.c.cfg.Poll, pace, s.receiveOnce)
}

func (s *ETagSession) receiveOnce(ctx context.Context) (string, bool, error) {
	ex, err := s.get(ctx, s.Token())
	if err != nil {
		return "", false, err
	}
	switch ex.status {
	case http.StatusNotModified:
		s.setExpiry(ex.header)
		return "", false, nil
	case http.StatusOK:
	default:
		return "", false, unexpected2024Status(ex)
	}
	etag := ex.header.Get("ETag")
	if etag == "" {
		return "", false, ErrMissingETag
	}
	s.setExpiry(ex.header)
	usable := len(ex.body) > 0 && isPlainText(ex.header.Get("Content-Type"))
	data, fresh := s.observe(etag, string(ex.body), usable)
	return data, fresh, nil
}

// Cancel deletes the session (204); ErrExpired when it was already gone.
func (s *ETagSession) Cancel(ctx context.Context) error {
	ex, err := s.c.t.do(ctx, "rendezvous cancel", func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodDelete, s.url, nil)
	})
	return cancelled(ex, err, unexpected2024Status)
}
