package rendezvous

import (
	"encoding/json"
	"errors"
)

// maxExpiresInMS caps a server's expires_in_ms at one hour: MSC4388
// "Maximum duration of a rendezvous" says at most 300 s, and a silly value
// must not keep us waiting for ever.
const maxExpiresInMS = int64(3600 * 1000)

// minCreateExpiresInMS is the least expires_in_ms a create answer may
// announce. MSC4388 "Expiry" sets no minimum, but a session that ends
// within a second cannot be scanned, and a caller that replaces expired
// sessions would create them as fast as the server answers. Reads may
// announce less: the time left shrinks to zero as a session nears its end.
const minCreateExpiresInMS = int64(1000)

// MSC4388 response bodies (section "Insecure rendezvous session"). Pointer
// fields tell a missing required field from a zero value.
type msc4388CreateResponse struct {
	ID            string `json:"id"`
	SequenceToken string `json:"sequence_token"`
	ExpiresInMS   int64  `json:"expires_in_ms"`
}

type msc4388GetResponse struct {
	Data          string `json:"data"`
	SequenceToken string `json:"sequence_token"`
	ExpiresInMS   int64  `json:"expires_in_ms"`
}

type rawMSC4388 struct {
	ID              *string `json:"id"`
	Data            *string `json:"data"`
	SequenceToken   *string `json:"sequence_token"`
	ExpiresInMS     *int64  `json:"expires_in_ms"`
	CreateAvailable *bool   `json:"create_available"`
}

func decodeMSC4388(body []byte) (rawMSC4388, error) {
	var r rawMSC4388
	if err := json.Unmarshal(body, &r); err != nil {
		return r, malformed("rendezvous response is not the expected JSON object", err)
	}
	return r, nil
}

func requireToken(r rawMSC4388) (string, error) {
	if r.SequenceToken == nil || *r.SequenceToken == "" {
		return "", malformed("sequence_token missing", nil)
	}
	if len(*r.SequenceToken) > 255 {
		// The opaque identifier grammar allows at most 255 characters.
		return "", malformed("sequence_token longer than 255 characters", nil)
	}
	return *r.SequenceToken, nil
}

func requireExpiry(r rawMSC4388) (int64, error) {
	if r.ExpiresInMS == nil {
		return 0, malformed("expires_in_ms missing", nil)
	}
	if *r.ExpiresInMS < 0 {
		return 0, malformed("expires_in_ms negative", nil)
	}
	return min(*r.ExpiresInMS, maxExpiresInMS), nil
}

// parseDiscovery reads the 200 answer of GET .../rendezvous.
func parseDiscovery(body []byte) (bool, error) {
	r, err := decodeMSC4388(body)
	if err != nil {
		return false, err
	}
	if r.CreateAvailable == nil {
		return false, malformed("create_available missing", nil)
	}
	return *r.CreateAvailable, nil
}

// parseMSC4388Create reads the 200 answer of POST .../rendezvous.
func parseMSC4388Create(body []byte) (msc4388CreateResponse, error) {
	r, err := decodeMSC4388(body)
	if err != nil {
		return msc4388CreateResponse{}, err
	}
	if r.ID == nil || *r.ID == "" || len(*r.ID) > 255 {
		return msc4388CreateResponse{}, malformed("id missing or longer than 255 characters", nil)
	}
	token, err1 := requireToken(r)
	exp, err2 := requireExpiry(r)
	if err := errors.Join(err1, err2); err != nil {
		return msc4388CreateResponse{}, err
	}
	if exp < minCreateExpiresInMS {
		return msc4388CreateResponse{}, malformed("expires_in_ms of a new session under one second", nil)
	}
	return msc4388CreateResponse{ID: *r.ID, SequenceToken: token, ExpiresInMS: exp}, nil
}

// parseMSC4388Get reads the 200 answer of GET .../rendezvous/{id}.
func parseMSC4388Get(body []byte) (msc4388GetResponse, error) {
	r, err := decodeMSC4388(body)
	if err != nil {
		return msc4388GetResponse{}, err
	}
	if r.Data == nil {
		return msc4388GetResponse{}, malformed("data missing", nil)
	}
	token, err1 := requireToken(r)
	exp, err2 := requireExpiry(r)
	if err := errors.Join(err1, err2); err != nil {
		return msc4388GetResponse{}, err
	}
	return msc4388GetResponse{Data: *r.Data, SequenceToken: token, ExpiresInMS: exp}, nil
}

// parseMSC4388Put reads the 200 answer of PUT .../rendezvous/{id}.
func parseMSC4388Put(body []byte) (string, error) {
	r, err := decodeMSC4388(body)
	if err != nil {
		return "", err
	}
	return requireToken(r)
}
