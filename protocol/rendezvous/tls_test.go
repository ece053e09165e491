package rendezvous

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// flippingTransport sends requests through trusted until distrust is set,
// then through a transport that does not trust the test server's
// certificate, as after a certificate change behind the server's name.
type flippingTransport struct {
	trusted, untrusted http.RoundTripper
	distrust           atomic.Bool
}

func (f *flippingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.distrust.Load() {
		return f.untrusted.RoundTrip(r)
	}
	return f.trusted.RoundTrip(r)
}

// countedFake4388 serves an MSC4388 fake on 127.0.0.1, over TLS or plain
// HTTP, and counts the connections opened to it.
func countedFake4388(t *testing.T, useTLS bool) (*httptest.Server, *atomic.Int32) {
	f := newFake4388(t, PathUnstable)
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshakes
	if useTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv, &conns
}

func isCertificateError(err error) bool {
	var unknown x509.UnknownAuthorityError
	var verify *tls.CertificateVerificationError
	return errors.As(err, &unknown) || errors.As(err, &verify)
}

// A certificate this device does not trust, or a server that answers
// plain HTTP to https, is no network blip: the request is not retried,
// and a Receive does not keep polling until the session expires.
func TestUntrustedServerIsFinal(t *testing.T) {
	t.Run("create", func(t *testing.T) {
		srv, conns := countedFake4388(t, true)
		c, err := NewClient(ClientConfig{BaseURL: srv.URL, Retry: fastRetry, Poll: fastPoll})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Create(testCtx(t))
		if !isCertificateError(err) || errors.Is(err, ErrNetwork) {
			t.Fatalf("Create: %v, want the certificate error, not ErrNetwork", err)
		}
		if n := conns.Load(); n != 1 {
			t.Fatalf("%d connections, want 1 (no retries)", n)
		}
	})
	t.Run("receive", func(t *testing.T) {
		srv, conns := countedFake4388(t, true)
		tr := &flippingTransport{trusted: srv.Client().Transport, untrusted: &http.Transport{}}
		c, err := NewClient(ClientConfig{BaseURL: srv.URL, HTTPClient: &http.Client{Transport: tr, Timeout: 5 * time.Second},
			Retry: fastRetry, Poll: fastPoll})
		if err != nil {
			t.Fatal(err)
		}
		g, err := c.Create(testCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		tr.distrust.Store(true)
		before := conns.Load()
		start := time.Now()
		_, err = g.Receive(testCtx(t), vocab.PaceReply)
		if !isCertificateError(err) || errors.Is(err, ErrNetwork) || errors.Is(err, ErrExpired) {
			t.Fatalf("Receive: %v after %v, want the certificate error at once", err, time.Since(start))
		}
		if n := conns.Load() - before; n != 1 {
			t.Fatalf("%d connections while receiving, want 1", n)
		}
	})
	t.Run("plain HTTP answer to https", func(t *testing.T) {
		srv, conns := countedFake4388(t, false)
		c, err := NewClient(ClientConfig{BaseURL: strings.Replace(srv.URL, "http://", "https://", 1), Retry: fastRetry, Poll: fastPoll})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Create(testCtx(t))
		if !errors.Is(err, http.ErrSchemeMismatch) && !errors.As(err, new(tls.RecordHeaderError)) || errors.Is(err, ErrNetwork) {
			t.Fatalf("Create: %v, want the scheme mismatch, not ErrNetwork", err)
		}
		if n := conns.Load(); n != 1 {
			t.Fatalf("%d connections, want 1 (no retries)", n)
		}
	})
}
