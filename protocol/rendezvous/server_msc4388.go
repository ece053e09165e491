package rendezvous

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// srvMaxPayload is the MSC4388 data limit ("Maximum payload size": the
// server MUST enforce 4096 bytes) and the 2024 body limit (Synapse, §3.1),
// counted in bytes of the UTF-8 string.
const srvMaxPayload = 4096

// srvMaxJSONBody bounds an MSC4388 request body before it is parsed:
// 4096 data bytes written as \u00XX escapes take 24 KiB, plus the token
// and the field names.
const srvMaxJSONBody = 32 << 10

// srvMSC4388Body is the JSON body of POST and PUT; pointers tell a missing
// field from an empty string.
type srvMSC4388Body struct {
	Data          *string `json:"data"`
	SequenceToken *string `json:"sequence_token"`
}

// readMSC4388Body reads and checks the request body; wantToken is set for
// PUT. It answers the request itself and returns ok == false when the body
// is refused: 413 M_TOO_LARGE over the limits, 400 M_NOT_JSON when it is
// not JSON, 400 M_INVALID_PARAM when a field is missing or not a string
// (Synapse answers M_INVALID_PARAM for all three 400 cases).
func readMSC4388Body(w http.ResponseWriter, r *http.Request, wantToken bool) (body srvMSC4388Body, ok bool) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, srvMaxJSONBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		srvWriteError(w, http.StatusRequestEntityTooLarge, srvErrTooLarge, "Request body too large")
		return body, false
	case err != nil:
		srvWriteError(w, http.StatusBadRequest, srvErrInvalidParam, "Could not read the request body")
		return body, false
	case !json.Valid(raw):
		srvWriteError(w, http.StatusBadRequest, srvErrNotJSON, "Content not JSON")
		return body, false
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		srvWriteError(w, http.StatusBadRequest, srvErrInvalidParam, "The body must be a JSON object with string fields")
		return body, false
	}
	if body.Data == nil {
		srvWriteError(w, http.StatusBadRequest, srvErrInvalidParam, "data is required and must be a string")
		return body, false
	}
	if wantToken && body.SequenceToken == nil {
		srvWriteError(w, http.StatusBadRequest, srvErrInvalidParam, "sequence_token is required and must be a string")
		return body, false
	}
	if len(*body.Data) > srvMaxPayload {
		srvWriteError(w, http.StatusRequestEntityTooLarge, srvErrTooLarge, "data is larger than 4096 bytes")
		return body, false
	}
	return body, true
}

// msc4388Discover is GET …/rendezvous: MSC4388 "Discover if the
// rendezvous API is available".
func (s *Server) msc4388Discover(w http.ResponseWriter, r *http.Request) {
	if s.verifier != nil && s.cfg.Discovery == DiscoveryCreateUnavailable && srvAccessToken(r) == "" {
		srvWriteJSON(w, http.StatusOK, map[string]bool{"create_available": false})
		return
	}
	if !s.authorize(w, r) {
		return
	}
	srvWriteJSON(w, http.StatusOK, map[string]bool{"create_available": true})
}

// msc4388Create is POST …/rendezvous: MSC4388 "Create a rendezvous
// session and send initial payload".
func (s *Server) msc4388Create(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r) {
		return
	}
	body, ok := readMSC4388Body(w, r, false)
	if !ok {
		return
	}
	now := s.cfg.Now()
	data := *body.Data
	session := &srvSession{kind: srvKindMSC4388, data: data, modified: now, expires: now.Add(s.cfg.TTL)}
	var token string
	id, ok := s.insert(w, now, session, func(id string) string {
		token = s.minter.token(id, 0, data)
		return token
	})
	if !ok {
		return
	}
	srvWriteJSON(w, http.StatusOK, map[string]any{
		"id":             id,
		"sequence_token": token,
		"expires_in_ms":  srvRemainingMillis(now.Add(s.cfg.TTL), now),
	})
}

// msc4388Get is GET …/rendezvous/{id}: MSC4388 "Receive a payload".
func (s *Server) msc4388Get(w http.ResponseWriter, r *http.Request, route srvRoute) {
	if srvIsBrowserNavigation(r.Header) {
		srvWriteError(w, http.StatusForbidden, srvErrForbidden, "Rendezvous content is not served to browser navigation")
		return
	}
	now := s.cfg.Now()
	var data, token string
	var remaining int64
	found := srvIsOpaqueIdentifier(route.id) && s.store.with(now, srvKindMSC4388, route.id, func(session *srvSession) {
		data, token, remaining = session.data, session.token, srvRemainingMillis(session.expires, now)
	})
	if !found {
		srvWriteNoSession(w)
		return
	}
	srvWriteJSON(w, http.StatusOK, map[string]any{"data": data, "sequence_token": token, "expires_in_ms": remaining})
}

// srvPutOutcome is what a PUT did to a session.
type srvPutOutcome int

const (
	srvPutWritten      srvPutOutcome = iota // compare-and-swap succeeded
	srvPutAcknowledged                      // idempotent retry: nothing changed
	srvPutConflict                          // concurrent write
)

// msc4388Put is PUT …/rendezvous/{id}: MSC4388 "Send a payload", a
// compare-and-swap on the sequence_token ("The send mechanism").
func (s *Server) msc4388Put(w http.ResponseWriter, r *http.Request, route srvRoute) {
	body, ok := readMSC4388Body(w, r, true)
	if !ok {
		return
	}
	data, supplied := *body.Data, *body.SequenceToken
	now := s.cfg.Now()
	var outcome srvPutOutcome
	var token string
	found := srvIsOpaqueIdentifier(route.id) && s.store.with(now, srvKindMSC4388, route.id, func(session *srvSession) {
		switch {
		case supplied == session.token:
			session.previousToken = session.token
			session.writes++
			session.data = data
			session.modified = now
			session.token = s.minter.token(route.id, session.writes, data)
			outcome = srvPutWritten
		case data == session.data && s.isIdempotentRetry(session, supplied):
			// The MSC: "MUST NOT advance the payload or generate a new
			// sequence_token, and MUST return the current sequence_token".
			outcome = srvPutAcknowledged
		default:
			outcome = srvPutConflict
		}
		token = session.token
	})
	switch {
	case !found:
		srvWriteNoSession(w)
	case outcome == srvPutConflict:
		errcode := srvErrConcurrentWriteUnstable
		if route.stable {
			errcode = srvErrConcurrentWriteStable
		}
		srvWriteError(w, http.StatusConflict, errcode, "sequence_token does not match")
	default:
		srvWriteJSON(w, http.StatusOK, map[string]string{"sequence_token": token})
	}
}

// isIdempotentRetry decides, for a PUT whose token does not match but
// whose data equals the current payload, whether it is acknowledged.
//
// The MSC4388 text accepts it whatever the token (RetryRuleMSC). Synapse
// is narrower (RetryRuleSynapse): the token must be the one from before
// the last write, i.e. the request must be a repeat of that write; a
// request carrying an older token, or a made-up one, gets 409 although
// the text would accept it (REFERENCE-IMPLEMENTATIONS.md §1.9 row 17).
func (s *Server) isIdempotentRetry(session *srvSession, supplied string) bool {
	if s.cfg.RetryRule == RetryRuleSynapse {
		return session.previousToken != "" && supplied == session.previousToken
	}
	return true
}

// msc4388Delete is DELETE …/rendezvous/{id}: MSC4388 "cancel a
// rendezvous session".
func (s *Server) msc4388Delete(w http.ResponseWriter, route srvRoute) {
	if !srvIsOpaqueIdentifier(route.id) || !s.store.remove(s.cfg.Now(), srvKindMSC4388, route.id) {
		srvWriteNoSession(w)
		return
	}
	srvWriteJSON(w, http.StatusOK, struct{}{})
}

// srvWriteNoSession answers for an unknown, expired or cancelled session
// (MSC4388: 404 M_NOT_FOUND; the 2024 API answers the same).
func srvWriteNoSession(w http.ResponseWriter) {
	srvWriteError(w, http.StatusNotFound, srvErrNotFound, "Rendezvous session not found")
}
