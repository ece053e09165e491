package rendezvous

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// APIPath is where a server serves the MSC4388 rendezvous API.
type APIPath string

const (
	// PathUnstable is what Synapse serves today (MSC4388 "Unstable prefix";
	// docs/protocol-divergences.md "MSC4388 rendezvous on Synapse": no v1
	// path is registered). Default.
	PathUnstable APIPath = "/_matrix/client/unstable/io.element.msc4388/rendezvous"
	// PathStable is the MSC text's path, for when the MSC is merged.
	PathStable APIPath = "/_matrix/client/v1/rendezvous"
)

// ClientConfig configures an MSC4388 Client.
type ClientConfig struct {
	// BaseURL is the homeserver (or rendezvous server) base URL, e.g.
	// https://matrix-client.matrix.org. http:// only for loopback hosts.
	BaseURL string
	// HTTPClient sends the requests; nil means a client with a 30 s timeout.
	HTTPClient *http.Client
	// Path selects the unstable (default) or stable API path.
	Path APIPath
	// AccessToken, when set, authenticates discovery and create (servers in
	// "authenticated" mode require it). It is never sent to session URLs.
	AccessToken BearerToken
	Poll        PollConfig
	Retry       RetryPolicy
}

// Client speaks the MSC4388 sequence-token rendezvous API ("Insecure
// rendezvous session").
type Client struct {
	cfg  ClientConfig
	base *url.URL
	t    transport
}

// NewClient checks the configuration and returns a client.
func NewClient(cfg ClientConfig) (*Client, error) {
	base, err := CheckURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.Path == "" {
		cfg.Path = PathUnstable
	}
	return &Client{cfg: cfg, base: base, t: newTransport(cfg.HTTPClient, cfg.Retry)}, nil
}

func (c *Client) endpoint() string { return joinPath(c.cfg.BaseURL, string(c.cfg.Path)) }

func (c *Client) sessionURL(id string) string {
	return c.endpoint() + "/" + url.PathEscape(id)
}

// Discover asks whether this device may create sessions (MSC4388 "GET
// /_matrix/client/v1/rendezvous"). It returns create_available; 404
// M_UNRECOGNIZED is ErrNotEnabled, 401/403 ErrNeedsAccount.
func (c *Client) Discover(ctx context.Context) (bool, error) {
	ex, err := c.t.do(ctx, "rendezvous discovery", func(ctx context.Context) (*http.Request, error) {
		return c.newRequest(ctx, http.MethodGet, c.endpoint(), nil, true)
	})
	if err != nil {
		return false, err
	}
	if ex.status != http.StatusOK {
		return false, newHTTPError(opCreate, ex.status, ex.body)
	}
	return parseDiscovery(ex.body)
}

// Create creates a session with an empty initial payload: the generating
// device (G) has nothing to say until the scanner writes (MSC4388 secure
// channel step 2). The session is ready for Receive.
func (c *Client) Create(ctx context.Context) (*MSC4388Session, error) {
	return c.CreateWithPayload(ctx, "")
}

// CreateWithPayload creates a session whose first payload is data
// (MSC4388 "POST /_matrix/client/v1/rendezvous").
func (c *Client) CreateWithPayload(ctx context.Context, data string) (*MSC4388Session, error) {
	body, err := json.Marshal(struct {
		Data string `json:"data"`
	}{data})
	if err != nil {
		return nil, err
	}
	ex, err := c.t.do(ctx, "rendezvous create", func(ctx context.Context) (*http.Request, error) {
		return c.newRequest(ctx, http.MethodPost, c.endpoint(), body, true)
	})
	if err != nil {
		return nil, err
	}
	if ex.status != http.StatusOK && ex.status != http.StatusCreated {
		return nil, newHTTPError(opCreate, ex.status, ex.body)
	}
	resp, err := parseMSC4388Create(ex.body)
	if err != nil {
		return nil, err
	}
	s := &MSC4388Session{c: c, id: resp.ID, base: c.cfg.BaseURL, url: c.sessionURL(resp.ID)}
	s.adopt(resp.SequenceToken, data)
	s.setExpiry(resp.ExpiresInMS)
	return s, nil
}

// Join opens an existing session by base URL and ID (from a QR code) and
// reads it once, so Token() is the current token and Send may follow.
// baseURL may differ from the client's own (the QR names the server).
func (c *Client) Join(ctx context.Context, baseURL, id string) (*MSC4388Session, error) {
	if _, err := CheckURL(baseURL); err != nil {
		return nil, err
	}
	if id == "" {
		return nil, fmt.Errorf("rendezvous: empty rendezvous ID")
	}
	s := &MSC4388Session{c: c, id: id, base: baseURL,
		url: joinPath(baseURL, string(c.cfg.Path)) + "/" + url.PathEscape(id)}
	resp, err := s.get(ctx)
	if err != nil {
		return nil, err
	}
	s.adopt(resp.SequenceToken, resp.Data)
	return s, nil
}

func (c *Client) newRequest(ctx context.Context, method, target string, body []byte, authenticated bool) (*http.Request, error) {
	var req *http.Request
	var err error
	if body != nil {
		req, err = http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
	} else {
		req, err = http.NewRequestWithContext(ctx, method, target, nil)
	}
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if auth, ok := c.cfg.AccessToken.authorization(); ok && authenticated {
		req.Header.Set("Authorization", auth)
	}
	return req, nil
}

// MSC4388Session is one device's view of an MSC4388 rendezvous session.
// It satisfies Session; Token is the sequence_token. Its methods must be
// called in ping-pong order from one goroutine; Token, ExpiresAt and
// Payload may be read from any.
type MSC4388Session struct {
	c    *Client
	id   string
	base string
	url  string
	sessionState
}

var _ Session = (*MSC4388Session)(nil)

// ID is the rendezvous session ID (goes in the QR code).
func (s *MSC4388Session) ID() string { return s.id }

// BaseURL is the base URL the session lives under, as configured or as
// given to Join (not normalised; the secure channel normalises it).
func (s *MSC4388Session) BaseURL() string { return s.base }

// setExpiry takes the server's relative expiry at receipt (MSC4388
// "Expiry").
func (s *MSC4388Session) setExpiry(ms int64) {
	s.expireIn(time.Duration(ms)*time.Millisecond, false)
}

// get reads the session once and refreshes the expiry.
func (s *MSC4388Session) get(ctx context.Context) (msc4388GetResponse, error) {
	ex, err := s.c.t.do(ctx, "rendezvous receive", func(ctx context.Context) (*http.Request, error) {
		return s.c.newRequest(ctx, http.MethodGet, s.url, nil, false)
	})
	if err != nil {
		return msc4388GetResponse{}, err
	}
	if ex.status != http.StatusOK {
		return msc4388GetResponse{}, newHTTPError(opSession, ex.status, ex.body)
	}
	resp, err := parseMSC4388Get(ex.body)
	if err != nil {
		return msc4388GetResponse{}, err
	}
	s.setExpiry(resp.ExpiresInMS)
	return resp, nil
}

// Send replaces the payload (MSC4388 "PUT .../rendezvous/{id}") using the
// token we hold. When an attempt's response was lost, the identical PUT is
// re-sent (the server treats identical data as idempotent); if that still
// meets 409, a GET showing our own payload means the first attempt landed
// and its token is adopted.
func (s *MSC4388Session) Send(ctx context.Context, payload string) error {
	body, err := json.Marshal(struct {
		SequenceToken string `json:"sequence_token"`
		Data          string `json:"data"`
	}{s.Token(), payload})
	if err != nil {
		return err
	}
	return s.write(ctx, payload, writeOps{
		put: func(ctx context.Context) (*exchange, error) {
			return s.c.t.do(ctx, "rendezvous send", func(ctx context.Context) (*http.Request, error) {
				return s.c.newRequest(ctx, http.MethodPut, s.url, body, false)
			})
		},
		accepted: func(ex *exchange) (string, bool, error) {
			if ex.status != http.StatusOK {
				return "", false, nil
			}
			token, err := parseMSC4388Put(ex.body)
			return token, true, err
		},
		conflict: http.StatusConflict,
		reread: func(ctx context.Context) (string, string, error) {
			resp, err := s.get(ctx)
			return resp.SequenceToken, resp.Data, err
		},
		fail: s.failed,
	})
}

func (s *MSC4388Session) failed(ex *exchange) error {
	return newHTTPError(opSession, ex.status, ex.body)
}

// Receive polls until the token differs from the last one this device saw
// (docs/protocol-divergences.md "Sequence tokens": a GET always returns the
// current payload, our own PUT's token comes back until the peer writes) and
// returns the peer's payload. The first GET goes out at once.
func (s *MSC4388Session) Receive(ctx context.Context, pace vocab.Pace) (string, error) {
	return s.poll(ctx, s.c.cfg.Poll, pace, s.receiveOnce)
}

func (s *MSC4388Session) receiveOnce(ctx context.Context) (string, bool, error) {
	resp, err := s.get(ctx)
	if err != nil {
		return "", false, err
	}
	data, fresh := s.observe(resp.SequenceToken, resp.Data, true)
	return data, fresh, nil
}

// Cancel deletes the session (MSC4388 "DELETE"); ErrExpired when it was
// already gone.
func (s *MSC4388Session) Cancel(ctx context.Context) error {
	ex, err := s.c.t.do(ctx, "rendezvous cancel", func(ctx context.Context) (*http.Request, error) {
		return s.c.newRequest(ctx, http.MethodDelete, s.url, nil, false)
	})
	return cancelled(ex, err, s.failed)
}
