package phone

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/internal/devserver/devservertest"
	"github.com/qrlogin/qrlogin/protocol/login"
	"github.com/qrlogin/qrlogin/protocol/rendezvous"
	"github.com/qrlogin/qrlogin/protocol/vocab"
)

var fastPoll = rendezvous.PollConfig{Reply: 50 * time.Millisecond, Human: 100 * time.Millisecond}

func startDevServer(t testing.TB, cfg devserver.Config) *devserver.Server {
	t.Helper()
	if cfg.PollInterval == 0 {
		cfg.PollInterval = time.Second
	}
	return devservertest.Start(t, cfg)
}

// pairing is one desktop flow (package login, in process) and one scripted
// phone against the same dev server.
type pairing struct {
	flowRes  *login.Result
	flowErr  error
	phoneRes *Result
	phoneErr error
	events   []login.Event
}

type pairOptions struct {
	gen       vocab.Generation
	script    Script
	typedCode func(real string) string // nil: type the phone's code
	// productPoll leaves the desktop's rendezvous polling at the product
	// defaults (login.Config.Poll zero) instead of fastPoll.
	productPoll            bool
	flowHTTP               *http.Client
	phoneHTTP              *http.Client
	desktopPoll, phonePoll rendezvous.PollConfig
}

// pair runs both sides to the end.
func pair(t testing.TB, srv *devserver.Server, o pairOptions) *pairing {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if o.desktopPoll == (rendezvous.PollConfig{}) && !o.productPoll {
		o.desktopPoll = fastPoll
	}
	if o.phonePoll == (rendezvous.PollConfig{}) {
		o.phonePoll = fastPoll
	}
	p := &pairing{}
	qrs := make(chan []byte, 4)
	codes := make(chan string, 1)
	var flow *login.Flow
	flow = login.New(login.Config{
		Homeserver: srv.URL(), Preference: string(o.gen), HTTP: o.flowHTTP,
		Poll: o.desktopPoll, FailureGrace: 300 * time.Millisecond,
	}, func(ev login.Event) {
		p.events = append(p.events, ev)
		switch e := ev.(type) {
		case login.QRReady:
			qrs <- e.Payload
		case login.CheckCodeNeeded:
			go func() {
				code := <-codes
				if o.typedCode != nil {
					code = o.typedCode(code)
				}
				flow.SubmitCheckCode(code)
			}()
		}
	})
	phoneDone := make(chan struct{})
	go func() {
		defer close(phoneDone)
		var qr []byte
		select {
		case qr = <-qrs:
		case <-ctx.Done():
			p.phoneErr = ctx.Err()
			return
		}
		p.phoneRes, p.phoneErr = Run(ctx, Config{
			Homeserver: srv, HTTP: o.phoneHTTP, Poll: o.phonePoll, Script: o.script,
			OnCheckCode: func(c string) { codes <- c },
		}, qr)
	}()
	p.flowRes, p.flowErr = flow.Run(ctx)
	<-phoneDone
	return p
}
