package rendezvous

import (
	"sync"
	"time"
)

// srvSessionKind tells the two protocol generations' sessions apart; a
// session is reachable only through the paths of its own generation.
type srvSessionKind uint8

const (
	srvKindMSC4388 srvSessionKind = iota + 1
	srvKindETag
)

// srvSession is one live rendezvous session: the single mutable payload
// slot of MSC4388 "Concept" (no history is kept).
type srvSession struct {
	kind srvSessionKind
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
	// expires is fixed at creation: writes do not extend a session
	// (Synapse, REFERENCE-IMPLEMENTATIONS.md §2 and §3.1).
	expires time.Time
}

func (s *srvSession) expiredAt(now time.Time) bool { return !now.Before(s.expires) }

// srvStore holds the live sessions of both generations under one lock,
// which also makes every compare-and-swap atomic.
type srvStore struct {
	maxSessions int // ≤ 0: no cap

	mu       sync.Mutex
	sessions map[string]*srvSession
	// earliestExpiry is a lower bound on the expiry of every stored
	// session (set by each scan, lowered by each add); before it a full
	// store has nothing to reclaim, so a refused create need not scan.
	earliestExpiry time.Time
	// peak is the largest size since the map was last rebuilt: Go maps do
	// not shrink, so after a burst the sweeper copies a much smaller map
	// into a fresh one.
	peak int
}

func newSrvStore(maxSessions int) *srvStore {
	return &srvStore{maxSessions: maxSessions, sessions: make(map[string]*srvSession)}
}

// srvAddResult is what add did.
type srvAddResult int

const (
	srvAdded srvAddResult = iota
	srvDuplicateID
	srvStoreFull
)

// add stores a new session unless the store is full of live sessions.
// Expired ones are reclaimed first; live ones are never evicted. When
// full, retryAfter is the time until the oldest session expires.
func (st *srvStore) add(now time.Time, id string, session *srvSession) (srvAddResult, time.Duration) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, taken := st.sessions[id]; taken {
		return srvDuplicateID, 0
	}
	if st.maxSessions > 0 && len(st.sessions) >= st.maxSessions {
		if !now.Before(st.earliestExpiry) {
			st.reclaimExpiredLocked(now)
		}
		if len(st.sessions) >= st.maxSessions {
			return srvStoreFull, st.earliestExpiry.Sub(now)
		}
	}
	st.sessions[id] = session
	if st.earliestExpiry.IsZero() || session.expires.Before(st.earliestExpiry) {
		st.earliestExpiry = session.expires
	}
	st.peak = max(st.peak, len(st.sessions))
	return srvAdded, 0
}

// with runs fn on the live session id of the given kind, under the lock,
// and reports whether there was one. An expired session found on the way
// is deleted (lazy reclamation).
func (st *srvStore) with(now time.Time, kind srvSessionKind, id string, fn func(*srvSession)) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	session, ok := st.sessions[id]
	if !ok || session.kind != kind {
		return false
	}
	if session.expiredAt(now) {
		delete(st.sessions, id)
		return false
	}
	fn(session)
	return true
}

// remove deletes the live session id of the given kind and reports
// whether there was one.
func (st *srvStore) remove(now time.Time, kind srvSessionKind, id string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	session, ok := st.sessions[id]
	if !ok || session.kind != kind {
		return false
	}
	delete(st.sessions, id)
	return !session.expiredAt(now)
}

// reclaimExpired deletes every expired session (the sweeper's job).
func (st *srvStore) reclaimExpired(now time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.reclaimExpiredLocked(now)
	if st.peak > 1024 && len(st.sessions) < st.peak/4 {
		fresh := make(map[string]*srvSession, len(st.sessions))
		for id, session := range st.sessions {
			fresh[id] = session
		}
		st.sessions = fresh
		st.peak = len(fresh)
	}
}

func (st *srvStore) reclaimExpiredLocked(now time.Time) {
	var earliest time.Time
	for id, session := range st.sessions {
		if session.expiredAt(now) {
			delete(st.sessions, id)
			continue
		}
		if earliest.IsZero() || session.expires.Before(earliest) {
			earliest = session.expires
		}
	}
	st.earliestExpiry = earliest
}

// size is the number of stored sessions, expired ones not yet reclaimed
// included.
func (st *srvStore) size() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.sessions)
}
