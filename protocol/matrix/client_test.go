package matrix

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func testServer(t *testing.T, h http.HandlerFunc) (*Client, *[]time.Duration) {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := NewClient(srv.Client(), srv.URL+"/", "syt_SECRET_TOKEN")
	var sleeps []time.Duration
	c.Sleep = func(ctx context.Context, d time.Duration) error { sleeps = append(sleeps, d); return nil }
	return c, &sleeps
}

func TestClientSendsTokenAndDecodes(t *testing.T) {
	c, _ := testServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer syt_SECRET_TOKEN" {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"errcode":"M_MISSING_TOKEN","error":"Missing access token"}`)
			return
		}
		switch r.URL.EscapedPath() {
		case "/_matrix/client/v3/account/whoami":
			fmt.Fprint(w, `{"user_id":"@alice:example.org","device_id":"ABCDEFGHJK"}`)
		case "/_matrix/client/v3/devices/AB%2FCD+EF":
			fmt.Fprint(w, `{"device_id":"AB/CD+EF"}`)
		default:
			w.WriteHeader(404)
			fmt.Fprint(w, `{"errcode":"M_NOT_FOUND","error":"Device not found"}`)
		}
	})
	w, err := c.Whoami(context.Background())
	if err != nil || w.UserID != "@alice:example.org" || w.DeviceID != "ABCDEFGHJK" {
		t.Fatal(w, err)
	}
	if d, err := c.Device(context.Background(), "AB/CD+EF"); err != nil || d.DeviceID != "AB/CD+EF" {
		t.Fatal(d, err)
	}
	_, err = c.Device(context.Background(), "NOPE")
	var me *Error
	if !IsNotFound(err) || !errors.As(err, &me) || me.Errcode != "M_NOT_FOUND" || me.Message != "Device not found" {
		t.Fatalf("got %v", err)
	}
	if v, err := c.RoomKeysVersion(context.Background()); v != nil || err != nil {
		t.Fatalf("no backup: %v %v", v, err)
	}
	c.SetAccessToken("wrong")
	if _, err := c.Whoami(context.Background()); !errors.As(err, &me) || me.Status != 401 || me.Errcode != "M_MISSING_TOKEN" {
		t.Fatalf("got %v", err)
	}
	if s := fmt.Sprintf("%v %+v %#v", c, c, c); strings.Contains(s, "SECRET") || strings.Contains(s, "wrong") {
		t.Fatal(s)
	}
}

func TestClientRetries429Bounded(t *testing.T) {
	calls := 0
	c, sleeps := testServer(t, func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls <= 2 {
			w.WriteHeader(429)
			fmt.Fprint(w, `{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":1500}`)
			return
		}
		fmt.Fprint(w, `{"user_id":"@a:b"}`)
	})
	if _, err := c.Whoami(context.Background()); err != nil || calls != 3 || len(*sleeps) != 2 || (*sleeps)[0] != 1500*time.Millisecond {
		t.Fatalf("err=%v calls=%d sleeps=%v", err, calls, *sleeps)
	}

	// A wait longer than MaxRetryWait is not honoured: the error comes back.
	c2, sleeps2 := testServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(429)
		fmt.Fprint(w, `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":600000}`)
	})
	_, err := c2.Whoami(context.Background())
	var me *Error
	if !errors.As(err, &me) || me.Status != 429 || me.RetryAfter != 10*time.Minute || len(*sleeps2) != 0 {
		t.Fatalf("got %v after %v", err, *sleeps2)
	}

	// Endless 429 with Retry-After: at most MaxRetries retries.
	calls3 := 0
	c3, sleeps3 := testServer(t, func(w http.ResponseWriter, r *http.Request) {
		calls3++
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(429)
	})
	if _, err := c3.Whoami(context.Background()); err == nil || calls3 != 4 || len(*sleeps3) != 3 || (*sleeps3)[0] != 2*time.Second {
		t.Fatalf("err=%v calls=%d sleeps=%v", err, calls3, *sleeps3)
	}
}

func TestClientBodyLimit(t *testing.T) {
	c, _ := testServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, io.LimitReader(neverEnding('a'), maxResponseBytes+10))
	})
	if _, err := c.Whoami(context.Background()); err == nil || !strings.Contains(err.Error(), "larger") {
		t.Fatalf("got %v", err)
	}
}

type neverEnding byte

func (b neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

func TestClientKeysEndpoints(t *testing.T) {
	var uploaded string
	c, _ := testServer(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/_matrix/client/v3/keys/upload":
			uploaded = string(body)
			fmt.Fprint(w, `{"one_time_key_counts":{"signed_curve25519":0}}`)
		case "/_matrix/client/v3/keys/query":
			if string(body) != `{"device_keys":{"@alice:example.org":[]}}` {
				t.Errorf("query body %s", body)
			}
			fmt.Fprint(w, `{"device_keys":{"@alice:example.org":{}},"master_keys":{"@alice:example.org":{"user_id":"@alice:example.org","usage":["master"],"keys":{"ed25519:K":"K"}}}}`)
		case "/_matrix/client/v3/room_keys/version":
			fmt.Fprint(w, `{"algorithm":"m.megolm_backup.v1.curve25519-aes-sha2","auth_data":{"public_key":"P","signatures":{}},"count":0,"etag":"0","version":"3"}`)
		}
	})
	d, _ := NewDeviceIdentity("@alice:example.org", "ABCDEFGHJK")
	up, _ := d.KeysUpload(nil)
	counts, err := c.UploadKeys(context.Background(), up)
	if err != nil || counts["signed_curve25519"] != 0 || !strings.Contains(uploaded, `"device_keys"`) || !strings.Contains(uploaded, `"fallback_keys"`) {
		t.Fatal(counts, err, uploaded)
	}
	q, err := c.QueryKeys(context.Background(), "@alice:example.org")
	if err != nil {
		t.Fatal(err)
	}
	if pub, err := q.MasterKeys["@alice:example.org"].PublicKey(); err != nil || pub != "K" {
		t.Fatal(pub, err)
	}
	v, err := c.RoomKeysVersion(context.Background())
	if err != nil || v.Version != "3" || v.AuthData.PublicKey != "P" {
		t.Fatal(v, err)
	}
}
