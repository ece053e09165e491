package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/qrlogin/qrlogin/protocol/internal/httpx"
)

// maxTransportFailures is how many consecutive network failures the poller
// tolerates: the user may be typing the code on the phone for minutes, and a
// brief network hiccup on the desktop should not throw that away.
const maxTransportFailures = 3

// Poller polls the token endpoint for a device authorization (RFC 8628
// §3.4-3.5). Now and Sleep are injectable for tests; nil means the wall
// clock.
type Poller struct {
	Client *Client
	Now    func() time.Time
	Sleep  func(ctx context.Context, d time.Duration) error
}

// PollToken is (&Poller{Client: c}).Poll.
func (c *Client) PollToken(ctx context.Context, da *DeviceAuthorization) (*Token, error) {
	return (&Poller{Client: c}).Poll(ctx, da)
}

// Poll sends RFC 8628 §3.4 device access token requests until the user
// decides (MSC4108 step 6):
//   - authorization_pending: wait Interval and poll again;
//   - slow_down: add 5 s to the interval for the rest of the flow;
//   - access_denied: ErrAccessDenied;
//   - expired_token, or the device code's lifetime (ExpiresIn counted from
//     da.Expiry, else from now) running out: ErrAuthorizationExpired;
//   - any other OAuth error: *Error (e.g. 400 invalid_grant).
//
// The status code does not matter: MAS answers the first three with 403.
// The parent ctx's cancellation is returned as ctx.Err().
func (p *Poller) Poll(ctx context.Context, da *DeviceAuthorization) (*Token, error) {
	now := p.Now
	if now == nil {
		now = time.Now
	}
	sleep := p.Sleep
	if sleep == nil {
		sleep = httpx.Sleep
	}
	deadline := da.Expiry
	if deadline.IsZero() {
		deadline = now().Add(da.ExpiresIn)
	}
	interval := da.Interval
	if interval <= 0 {
		interval = defaultInterval
	}
	// The device code's lifetime is a context deadline on the real clock as
	// well, so a request in flight when it ends is abandoned.
	pollCtx, cancel := context.WithTimeout(ctx, deadline.Sub(now()))
	defer cancel()
	expired := func(err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if pollCtx.Err() != nil || !now().Before(deadline) {
			return ErrAuthorizationExpired
		}
		return err
	}

	form := url.Values{
		"grant_type":  {GrantTypeDeviceCode},
		"device_code": {da.DeviceCode},
		"client_id":   {p.Client.ClientID},
	}
	failures := 0
	for {
		if !now().Before(deadline) {
			return nil, expired(nil)
		}
		tok, err := p.Client.requestToken(pollCtx, form, now)
		if err == nil {
			return tok, nil
		}
		var oe *Error
		switch {
		case errors.As(err, &oe) && oe.Code == "authorization_pending":
			failures = 0
		case errors.As(err, &oe) && oe.Code == "slow_down":
			failures = 0
			interval = min(interval+slowDownStep, maxInterval)
		case errors.As(err, &oe) && oe.Code == "access_denied":
			return nil, ErrAccessDenied
		case errors.As(err, &oe) && oe.Code == "expired_token":
			return nil, ErrAuthorizationExpired
		case errors.As(err, &oe) && (oe.Status >= 500 || oe.Status == http.StatusTooManyRequests):
			// A 5xx or 429 is the server (or a proxy) having a moment, not
			// the user's decision: the device code is still good, so treat
			// it like a network failure and poll again after the interval.
			// (Its body may even carry an "error" member: a Matrix error
			// object's human text, as Synapse's rate limiter sends.)
			failures++
			if failures >= maxTransportFailures {
				return nil, err
			}
		case errors.As(err, &oe):
			return nil, err
		default:
			if e := expired(nil); e != nil {
				return nil, e
			}
			var te *transportError
			if !errors.As(err, &te) {
				return nil, err // e.g. a 200 without access_token
			}
			failures++
			if failures >= maxTransportFailures {
				return nil, err
			}
		}
		if err := sleep(pollCtx, interval); err != nil {
			return nil, expired(err)
		}
	}
}
