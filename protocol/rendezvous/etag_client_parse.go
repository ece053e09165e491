package rendezvous

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// parse2024CreateURL finds the session URL in a create answer: the JSON
// {"url": ...} that Synapse sends (docs/protocol-divergences.md "2024
// rendezvous"), else the Location header that node-http-rendezvous-server
// sends (a bare ID, relative to the request URL). Relative URLs resolve
// against requestURL.
func parse2024CreateURL(requestURL *url.URL, location string, body []byte) (string, error) {
	var created struct {
		URL *string `json:"url"`
	}
	ref := ""
	if len(body) > 0 && json.Unmarshal(body, &created) == nil && created.URL != nil {
		ref = *created.URL
	} else {
		ref = location
	}
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return "", malformed("create answer names no session URL", nil)
	}
	u, err := requestURL.Parse(ref)
	if err != nil {
		return "", malformed("session URL does not parse", err)
	}
	return u.String(), nil
}

// parse2024TTL is Expires minus Date of one response: the session's
// remaining life measured on the server's own clock, so skew between the
// clocks cancels out. Values outside (0, 1 h] are not trusted.
func parse2024TTL(expires, date string) (time.Duration, bool) {
	if expires == "" || date == "" {
		return 0, false
	}
	e, err1 := http.ParseTime(expires)
	d, err2 := http.ParseTime(date)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	ttl := e.Sub(d)
	if ttl <= 0 || ttl > time.Hour {
		return 0, false
	}
	return ttl, true
}

// isPlainText reports whether a Content-Type is text/plain (parameters such
// as charset are tolerated on what we read).
func isPlainText(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "text/plain"
}
