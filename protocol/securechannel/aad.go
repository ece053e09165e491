package securechannel

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Limits of the AAD length prefixes (MSC4388 "Device S sends the initial
// payload": EncodeStringAsBytes16 for the base URL, EncodeStringAsBytes8 for
// the rendezvous ID and the sequence token).
const (
	maxAADBaseURL = 0xffff
	maxAADField8  = 0xff
)

// ErrAAD is matched (errors.Is) by every error from building an MSC4388 AAD,
// including *AADFieldTooLongError and base URL errors.
var ErrAAD = errors.New("securechannel: cannot bind the channel to the rendezvous session")

// AADFieldTooLongError reports an AAD field longer than its length prefix
// can express. rust-sdk PR #6173 refuses the same inputs (LimitedString,
// LimitedUrl; docs/protocol-divergences.md "AAD layout"). The field's
// content is not kept: a sequence token is a capability and must not end up
// in a log.
type AADFieldTooLongError struct {
	Field  string // "base URL", "rendezvous ID" or "sequence token"
	Length int    // bytes
	Max    int    // bytes
}

func (e *AADFieldTooLongError) Error() string {
	return fmt.Sprintf("securechannel: the %s is %d bytes, more than the %d the AAD can carry", e.Field, e.Length, e.Max)
}

// Is makes errors.Is(err, ErrAAD) true.
func (e *AADFieldTooLongError) Is(target error) bool { return target == ErrAAD }

// aadBinding is the fixed part of the MSC4388 AAD: the normalised base URL
// and the rendezvous ID. Only the sequence token changes per message.
type aadBinding struct {
	baseURL      string
	rendezvousID string
}

// newAADBinding normalises the base URL the way the reference
// implementation's URL parser serialises it (rust-sdk puts Url::as_str()
// into the AAD, e.g. with a trailing "/"; docs/protocol-divergences.md "Base
// URL in the AAD") and checks both lengths up front, so that a bad binding
// fails before any message is sealed or awaited.
func newAADBinding(b Binding) (aadBinding, error) {
	u, err := NormalizeBaseURL(b.BaseURL)
	if err != nil {
		return aadBinding{}, err
	}
	if len(u) > maxAADBaseURL {
		return aadBinding{}, &AADFieldTooLongError{Field: "base URL", Length: len(u), Max: maxAADBaseURL}
	}
	if len(b.RendezvousID) > maxAADField8 {
		return aadBinding{}, &AADFieldTooLongError{Field: "rendezvous ID", Length: len(b.RendezvousID), Max: maxAADField8}
	}
	return aadBinding{baseURL: u, rendezvousID: b.RendezvousID}, nil
}

// build returns
//
//	EncodeStringAsBytes16(BaseUrl) || EncodeStringAsBytes8(RendezvousId) || EncodeStringAsBytes8(SequenceToken)
//
// (MSC4388 "Device S sends the initial payload" and "Secure operations").
func (a aadBinding) build(token string) ([]byte, error) {
	if len(token) > maxAADField8 {
		return nil, &AADFieldTooLongError{Field: "sequence token", Length: len(token), Max: maxAADField8}
	}
	out := make([]byte, 0, 2+len(a.baseURL)+1+len(a.rendezvousID)+1+len(token))
	out = binary.BigEndian.AppendUint16(out, uint16(len(a.baseURL)))
	out = append(out, a.baseURL...)
	out = append(out, byte(len(a.rendezvousID)))
	out = append(out, a.rendezvousID...)
	out = append(out, byte(len(token)))
	out = append(out, token...)
	return out, nil
}
