package securechannel

import (
	"context"
	"errors"
	"strconv"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// A scripted rendezvous session for the ECIES vector tests: fixed incoming
// payloads, recorded outgoing ones. Handshakes between our own G and S use
// memServer (memsession_test.go) instead.

// eciesScript is a session whose peer is a list of canned payloads.
type eciesScript struct {
	incoming []string
	sent     []string
}

var _ Transport = (*eciesScript)(nil)

var errScriptExhausted = errors.New("test script has no more incoming payloads")

func (s *eciesScript) Send(_ context.Context, payload string) error {
	s.sent = append(s.sent, payload)
	return nil
}

func (s *eciesScript) Receive(ctx context.Context, _ vocab.Pace) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if len(s.incoming) == 0 {
		return "", errScriptExhausted
	}
	p := s.incoming[0]
	s.incoming = s.incoming[1:]
	return p, nil
}

func (s *eciesScript) Token() string { return strconv.Itoa(len(s.sent)) }
