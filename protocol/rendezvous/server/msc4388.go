package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/qrlogin/qrlogin/protocol/rendezvous"
)

// maxJSONBody bounds an MSC4388 request body before it is parsed:
// 4096 data bytes written as \u00XX escapes take 24 KiB, plus the token
// and the field names.
const maxJSONBody = 32 << 10

// msc4388Body is the JSON body of POST and PUT; pointers tell a missing
// field from an empty string.
type msc4388Body struct {
	Data          *string `json:"data"`
	SequenceToken *string `json:"sequence_token"`
}

// readMSC4388Body reads and checks the request body; wantToken is set for
// PUT. It answers the request itself and returns ok == false when the body
// is refused: 413 M_TOO_LARGE over the limits, 400 M_NOT_JSON when it is
// not JSON, 400 M_INVALID_PARAM when a field is missing or not a string
// (Synapse answers M_INVALID_PARAM for all three 400 cases).
func readMSC4388Body(w http.ResponseWriter, r *http.Request, wantToken bool) (body msc4388Body, ok bool) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, errcodeTooLarge, "Request body too large")
		return body, false
	case err != nil:
		writeError(w, http.StatusBadRequest, errcodeInvalidParam, "Could not read the request body")
		return body, false
	case !json.Valid(raw):
		writeError(w, http.StatusBadRequest, errcodeNotJSON, "Content not JSON")
		return body, false
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		writeError(w, http.StatusBadRequest, errcodeInvalidParam, "The body must be a JSON object with string fields")
		return body, false
	}
	if body.Data == nil {
		writeError(w, http.StatusBadRequest, errcodeInvalidParam, "data is required and must be a string")
		return body, false
	}
	if wantToken && body.SequenceToken == nil {
		writeError(w, http.StatusBadRequest, errcodeInvalidParam, "sequence_token is required and must be a string")
		return body, false
	}
	if len(*body.Data) > rendezvous.MaxPayload {
		writeError(w, http.StatusRequestEntityTooLarge, errcodeTooLarge, "data is larger than 4096 bytes")
		return body, false
	}
	return body, true
}

// msc4388Discover is GET …/rendezvous: MSC4388 "Discover if the
// rendezvous API is available".
func (s *Server) msc4388Discover(w http.ResponseWriter, r *http.Request) {
	if s.verifier != nil && s.cfg.Discovery == DiscoveryCreateUnavailable && accessToken(r) == "" {
		writeJSON(w, http.StatusOK, map[string]bool{"create_available": false})
		return
	}
	if !s.authorize(w, r) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"create_available": true})
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
	sess := &session{kind: kindMSC4388, data: data, modified: now, expires: now.Add(s.cfg.TTL)}
	var token string
	id, ok := s.insert(w, r, now, sess, func(id string) string {
		token = s.minter.token(id, 0, data)
		return token
	})
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id":             id,
		"sequence_token": token,
		"expires_in_ms":  remainingMillis(now.Add(s.cfg.TTL), now),
	})
}

// msc4388Get is GET …/rendezvous/{id}: MSC4388 "Receive a payload".
func (s *Server) msc4388Get(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if isBrowserNavigation(r.Header) {
		writeError(w, http.StatusForbidden, errcodeForbidden, "Rendezvous content is not served to browser navigation")
		return
	}
	now := s.cfg.Now()
	var data, token string
	var remaining int64
	found := isOpaqueIdentifier(id) && s.store.with(now, kindMSC4388, id, func(sess *session) {
		data, token, remaining = sess.data, sess.token, remainingMillis(sess.expires, now)
	})
	if !found {
		writeNoSession(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "sequence_token": token, "expires_in_ms": remaining})
}

// putOutcome is what a PUT did to a session.
type putOutcome int

const (
	putWritten      putOutcome = iota // compare-and-swap succeeded
	putAcknowledged                   // idempotent retry: nothing changed
	putConflict                       // concurrent write
)

// msc4388Put is PUT …/rendezvous/{id}: MSC4388 "Send a payload", a
// compare-and-swap on the sequence_token ("The send mechanism").
func (s *Server) msc4388Put(w http.ResponseWriter, r *http.Request, stable bool) {
	id := r.PathValue("id")
	body, ok := readMSC4388Body(w, r, true)
	if !ok {
		return
	}
	data, supplied := *body.Data, *body.SequenceToken
	now := s.cfg.Now()
	var outcome putOutcome
	var token string
	found := isOpaqueIdentifier(id) && s.store.with(now, kindMSC4388, id, func(sess *session) {
		switch {
		case supplied == sess.token:
			sess.previousToken = sess.token
			sess.writes++
			sess.data = data
			sess.modified = now
			sess.token = s.minter.token(id, sess.writes, data)
			outcome = putWritten
		case data == sess.data && s.isIdempotentRetry(sess, supplied):
			// The MSC: "MUST NOT advance the payload or generate a new
			// sequence_token, and MUST return the current sequence_token".
			outcome = putAcknowledged
		default:
			outcome = putConflict
		}
		token = sess.token
	})
	switch {
	case !found:
		writeNoSession(w)
	case outcome == putConflict:
		errcode := rendezvous.ErrcodeConcurrentWriteUnstable
		if stable {
			errcode = rendezvous.ErrcodeConcurrentWrite
		}
		writeError(w, http.StatusConflict, errcode, "sequence_token does not match")
	default:
		writeJSON(w, http.StatusOK, map[string]string{"sequence_token": token})
	}
}

// isIdempotentRetry decides, for a PUT whose token does not match but
// whose data equals the current payload, whether it is acknowledged.
//
// The MSC4388 text accepts it whatever the token (RetryRuleMSC). Synapse
// is narrower (RetryRuleSynapse): the token must be the one from before
// the last write, i.e. the request must be a repeat of that write; a
// request carrying an older token, or a made-up one, gets 409 although
// the text would accept it (docs/protocol-divergences.md "Idempotent PUT").
func (s *Server) isIdempotentRetry(sess *session, supplied string) bool {
	if s.cfg.RetryRule == RetryRuleSynapse {
		return sess.previousToken != "" && supplied == sess.previousToken
	}
	return true
}

// msc4388Delete is DELETE …/rendezvous/{id}: MSC4388 "cancel a
// rendezvous session".
func (s *Server) msc4388Delete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !isOpaqueIdentifier(id) || !s.store.remove(s.cfg.Now(), kindMSC4388, id) {
		writeNoSession(w)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// writeNoSession answers for an unknown, expired or cancelled session
// (MSC4388: 404 M_NOT_FOUND; the 2024 API answers the same).
func writeNoSession(w http.ResponseWriter) {
	writeError(w, http.StatusNotFound, rendezvous.ErrcodeNotFound, "Rendezvous session not found")
}
