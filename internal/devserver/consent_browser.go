package devserver

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// What a person does on the consent page (consent.go) in a browser, for
// the doubles and tests that play that person: load the page, type the
// user code the device shows, press Approve or Deny.

// The consent form's buttons: the value of its "action" field.
const (
	ConsentApprove = "approve"
	ConsentDeny    = "deny"
)

// maxConsentPage bounds what a consent page answer is read into.
const maxConsentPage = 1 << 20

// consentFormAction finds the consent form's target on the page.
var consentFormAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)

// ConsentPage is a consent page as a browser loaded it.
type ConsentPage struct {
	hc     *http.Client
	action string // the form's target, absolute
}

// OpenConsentPage loads the page at pageURI and finds its form.
func OpenConsentPage(ctx context.Context, hc *http.Client, pageURI string) (*ConsentPage, error) {
	page, err := fetchConsent(ctx, hc, http.MethodGet, pageURI, nil)
	if err != nil {
		return nil, err
	}
	m := consentFormAction.FindStringSubmatch(page)
	if m == nil {
		return nil, fmt.Errorf("devserver: no consent form on %s", pageURI)
	}
	base, err := url.Parse(pageURI)
	if err != nil {
		return nil, err
	}
	action, err := base.Parse(m[1])
	if err != nil {
		return nil, err
	}
	return &ConsentPage{hc: hc, action: action.String()}, nil
}

// Submit types userCode into the form and presses the button named by
// action (ConsentApprove or ConsentDeny).
func (p *ConsentPage) Submit(ctx context.Context, userCode, action string) error {
	_, err := fetchConsent(ctx, p.hc, http.MethodPost, p.action, url.Values{"user_code": {userCode}, "action": {action}})
	return err
}

// SubmitConsent opens the page at pageURI and submits userCode with
// action, as a person in a browser does.
func SubmitConsent(ctx context.Context, hc *http.Client, pageURI, userCode, action string) error {
	page, err := OpenConsentPage(ctx, hc, pageURI)
	if err != nil {
		return err
	}
	return page.Submit(ctx, userCode, action)
}

// fetchConsent sends one request (a form when form is not nil) and
// returns the page of a 200 answer; any other status is an error.
func fetchConsent(ctx context.Context, hc *http.Client, method, target string, form url.Values) (string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxConsentPage))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("devserver: consent page %s %s: HTTP %d: %s", method, target, resp.StatusCode, b)
	}
	return string(b), nil
}
