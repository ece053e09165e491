package server

import (
	"sync"
	"time"
)

// sessionKind tells the two protocol generations' sessions apart; a
// session is reachable only through the paths of its own generation.
type sessionKind uint8

const (
	kindMSC4388 sessionKind = iota + 1
	kindETag
)

// session is one live rendezvous session: the single mutable payload
// slot of MSC4388 "Concept" (no history is kept).
type session struct {
	kind sessionKind
	data string
	// token is the MSC4388 sequence_token, or the quoted 2024 ETag.
	token string
	// previousToken is the MSC4388 token before the last write; only
	// RetryRuleSynapse reads it.
	previousToken string
	// writes counts successful writes; it feeds the MSC4388 token so that
	// every write gets a new one even when the data repeats.
	writes   uint64
	modified time.Time
	// owner is the key of the client that created the session
	// (proxyPolicy.clientKey); its live sessions are counted against
	// Config.MaxSessionsPerClient.
	owner string
	// expires is fixed at creation: writes do not extend a session
	// (Synapse, docs/protocol-divergences.md "Session lifetime and clocks").
	expires time.Time
}

func (s *session) expiredAt(now time.Time) bool { return !now.Before(s.expires) }

// store holds the live sessions of both generations under one lock,
// which also makes every compare-and-swap atomic.
type store struct {
	maxSessions  int // ≤ 0: no cap
	maxPerClient int // ≤ 0: no per-client cap, and owners are not counted

	mu       sync.Mutex
	sessions map[string]*session
	// owners counts the stored sessions of each owner, expired ones not
	// yet reclaimed included; an owner without sessions has no entry, so
	// the map never outgrows sessions. Kept only when maxPerClient > 0.
	owners map[string]*ownerSessions
	// earliestExpiry is a lower bound on the expiry of every stored
	// session (set by each scan, lowered by each add); before it a full
	// store has nothing to reclaim, so a refused create need not scan.
	earliestExpiry time.Time
	// peak is the largest size since the map was last rebuilt: Go maps do
	// not shrink, so after a burst the sweeper copies a much smaller map
	// into a fresh one.
	peak int
}

// ownerSessions is what the store knows of one client's sessions.
type ownerSessions struct {
	count int
	// earliestExpiry is a lower bound on the expiry of the owner's
	// sessions, kept as store.earliestExpiry is.
	earliestExpiry time.Time
}

func newStore(maxSessions, maxPerClient int) *store {
	st := &store{maxSessions: maxSessions, maxPerClient: maxPerClient, sessions: make(map[string]*session)}
	if maxPerClient > 0 {
		st.owners = make(map[string]*ownerSessions)
	}
	return st
}

// addResult is what add did.
type addResult int

const (
	added addResult = iota
	duplicateID
	storeFull
	clientFull
)

// add stores a new session unless its owner already holds maxPerClient
// live sessions (clientFull) or the store is full of live sessions
// (storeFull). Expired ones are reclaimed first; live ones are never
// evicted. When refused, retryAfter is the time until the owner's, or the
// store's, oldest session expires.
func (st *store) add(now time.Time, id string, sess *session) (addResult, time.Duration) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, taken := st.sessions[id]; taken {
		return duplicateID, 0
	}
	if st.maxPerClient > 0 {
		if owner := st.owners[sess.owner]; owner != nil && owner.count >= st.maxPerClient {
			if !now.Before(owner.earliestExpiry) {
				st.reclaimExpiredLocked(now)
			}
			if owner := st.owners[sess.owner]; owner != nil && owner.count >= st.maxPerClient {
				return clientFull, owner.earliestExpiry.Sub(now)
			}
		}
	}
	if st.maxSessions > 0 && len(st.sessions) >= st.maxSessions {
		if !now.Before(st.earliestExpiry) {
			st.reclaimExpiredLocked(now)
		}
		if len(st.sessions) >= st.maxSessions {
			return storeFull, st.earliestExpiry.Sub(now)
		}
	}
	st.sessions[id] = sess
	if st.earliestExpiry.IsZero() || sess.expires.Before(st.earliestExpiry) {
		st.earliestExpiry = sess.expires
	}
	if st.owners != nil {
		owner := st.owners[sess.owner]
		if owner == nil {
			owner = &ownerSessions{}
			st.owners[sess.owner] = owner
		}
		owner.count++
		if owner.earliestExpiry.IsZero() || sess.expires.Before(owner.earliestExpiry) {
			owner.earliestExpiry = sess.expires
		}
	}
	st.peak = max(st.peak, len(st.sessions))
	return added, 0
}

// deleteLocked removes a stored session and uncounts it from its owner.
func (st *store) deleteLocked(id string, sess *session) {
	delete(st.sessions, id)
	if st.owners == nil {
		return
	}
	if owner := st.owners[sess.owner]; owner != nil {
		owner.count--
		if owner.count <= 0 {
			delete(st.owners, sess.owner)
		}
	}
}

// with runs fn on the live session id of the given kind, under the lock,
// and reports whether there was one. An expired session found on the way
// is deleted (lazy reclamation).
func (st *store) with(now time.Time, kind sessionKind, id string, fn func(*session)) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	sess, ok := st.sessions[id]
	if !ok || sess.kind != kind {
		return false
	}
	if sess.expiredAt(now) {
		st.deleteLocked(id, sess)
		return false
	}
	fn(sess)
	return true
}

// remove deletes the live session id of the given kind and reports
// whether there was one.
func (st *store) remove(now time.Time, kind sessionKind, id string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	sess, ok := st.sessions[id]
	if !ok || sess.kind != kind {
		return false
	}
	st.deleteLocked(id, sess)
	return !sess.expiredAt(now)
}

// reclaimExpired deletes every expired session (the sweeper's job).
func (st *store) reclaimExpired(now time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.reclaimExpiredLocked(now)
	if st.peak > 1024 && len(st.sessions) < st.peak/4 {
		fresh := make(map[string]*session, len(st.sessions))
		for id, sess := range st.sessions {
			fresh[id] = sess
		}
		st.sessions = fresh
		st.peak = len(fresh)
	}
}

// reclaimExpiredLocked deletes every expired session and recomputes the
// earliest expiries, of the store and of each owner, exactly.
func (st *store) reclaimExpiredLocked(now time.Time) {
	for _, owner := range st.owners {
		owner.earliestExpiry = time.Time{}
	}
	var earliest time.Time
	for id, sess := range st.sessions {
		if sess.expiredAt(now) {
			st.deleteLocked(id, sess)
			continue
		}
		if earliest.IsZero() || sess.expires.Before(earliest) {
			earliest = sess.expires
		}
		if owner := st.owners[sess.owner]; owner != nil && (owner.earliestExpiry.IsZero() || sess.expires.Before(owner.earliestExpiry)) {
			owner.earliestExpiry = sess.expires
		}
	}
	st.earliestExpiry = earliest
}

// clientCount is the number of owners counted.
func (st *store) clientCount() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.owners)
}

// size is the number of stored sessions, expired ones not yet reclaimed
// included.
func (st *store) size() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.sessions)
}
