package server

import (
	"container/list"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RequestRate is a sustained request rate with a burst allowance: a token
// bucket that holds Burst tokens and gains Requests tokens per Per. MSC4388
// marks every rendezvous endpoint "Rate-limited: Yes" (Synapse applies no
// limit; docs/protocol-divergences.md "MSC4388 rendezvous on Synapse").
type RequestRate struct {
	Requests int           // requests allowed per Per; ≤ 0 means unlimited
	Per      time.Duration // the period; ≤ 0 means unlimited
	Burst    int           // bucket size; ≤ 0 means Requests
}

// Unlimited reports whether the rate imposes no limit.
func (r RequestRate) Unlimited() bool { return r.Requests <= 0 || r.Per <= 0 }

// String writes the rate as ParseRequestRate reads it ("60/min", "0").
func (r RequestRate) String() string {
	if r.Unlimited() {
		return "0"
	}
	var per string
	switch r.Per {
	case time.Second:
		per = "s"
	case time.Minute:
		per = "min"
	case time.Hour:
		per = "h"
	default:
		per = r.Per.String()
	}
	s := strconv.Itoa(r.Requests) + "/" + per
	if r.Burst > 0 && r.Burst != r.Requests {
		s += ",burst=" + strconv.Itoa(r.Burst)
	}
	return s
}

func (r RequestRate) limit() rate.Limit {
	return rate.Limit(float64(r.Requests) / r.Per.Seconds())
}

func (r RequestRate) burst() int {
	if r.Burst > 0 {
		return r.Burst
	}
	return r.Requests
}

// ErrBadRequestRate is wrapped by every ParseRequestRate error.
var ErrBadRequestRate = errors.New("rendezvous: bad request rate")

// ParseRequestRate reads "N/UNIT" with UNIT one of s, sec, second, m, min,
// minute, h, hour or a Go duration ("10/30s"), optionally followed by
// ",burst=B"; "0", "unlimited" and "none" mean no limit.
func ParseRequestRate(text string) (RequestRate, error) {
	s := strings.TrimSpace(text)
	switch strings.ToLower(s) {
	case "0", "unlimited", "none", "off":
		return RequestRate{}, nil
	}
	bad := func(why string) (RequestRate, error) {
		return RequestRate{}, fmt.Errorf("%w %q: %s (want e.g. 60/min, 10/s or 0)", ErrBadRequestRate, text, why)
	}
	var burstText string
	if main, rest, ok := strings.Cut(s, ","); ok {
		s = strings.TrimSpace(main)
		key, value, ok := strings.Cut(strings.TrimSpace(rest), "=")
		if !ok || strings.TrimSpace(key) != "burst" {
			return bad("only burst=N may follow the comma")
		}
		burstText = strings.TrimSpace(value)
	}
	countText, unitText, ok := strings.Cut(s, "/")
	if !ok {
		return bad("missing /UNIT")
	}
	count, err := strconv.Atoi(strings.TrimSpace(countText))
	if err != nil || count < 0 {
		return bad("the count is not a non-negative integer")
	}
	var per time.Duration
	switch unit := strings.ToLower(strings.TrimSpace(unitText)); unit {
	case "s", "sec", "second":
		per = time.Second
	case "m", "min", "minute":
		per = time.Minute
	case "h", "hour":
		per = time.Hour
	default:
		per, err = time.ParseDuration(unit)
		if err != nil || per <= 0 {
			return bad("unknown unit")
		}
	}
	r := RequestRate{Requests: count, Per: per}
	if burstText != "" {
		r.Burst, err = strconv.Atoi(burstText)
		if err != nil || r.Burst <= 0 {
			return bad("burst is not a positive integer")
		}
	}
	if r.Unlimited() {
		return RequestRate{}, nil
	}
	return r, nil
}

// clientLimiter is a token bucket per client, in a table whose size is
// capped (least recently seen clients are forgotten first) and whose idle
// entries (buckets that have refilled, so forgetting them changes nothing)
// are reclaimed by sweep. Memory therefore stays bounded however many
// addresses an attacker uses.
type clientLimiter struct {
	rate       rate.Limit
	burst      int
	maxClients int

	mu      sync.Mutex
	clients map[string]*list.Element // → *clientBucket
	recency *list.List               // front: most recently seen
}

type clientBucket struct {
	key    string
	bucket *rate.Limiter
}

func newClientLimiter(r RequestRate, maxClients int) *clientLimiter {
	return &clientLimiter{
		rate:       r.limit(),
		burst:      r.burst(),
		maxClients: maxClients,
		clients:    make(map[string]*list.Element),
		recency:    list.New(),
	}
}

// allow takes one token from key's bucket; when the bucket is empty it
// takes nothing and says how long until a token is available.
func (l *clientLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	taken, wait := l.take(key, now)
	return taken != nil, wait
}

// take is allow that can be undone: taken.CancelAt(now) gives the token
// back, for a request refused afterwards for another reason. A nil taken
// means refused, with the wait until a token is available.
func (l *clientLimiter) take(key string, now time.Time) (taken *rate.Reservation, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var entry *clientBucket
	if element, ok := l.clients[key]; ok {
		l.recency.MoveToFront(element)
		entry = element.Value.(*clientBucket)
	} else {
		for l.recency.Len() >= l.maxClients {
			oldest := l.recency.Back()
			l.recency.Remove(oldest)
			delete(l.clients, oldest.Value.(*clientBucket).key)
		}
		entry = &clientBucket{key: key, bucket: rate.NewLimiter(l.rate, l.burst)}
		l.clients[key] = l.recency.PushFront(entry)
	}
	reservation := entry.bucket.ReserveN(now, 1)
	if !reservation.OK() {
		return nil, time.Duration(math.MaxInt64)
	}
	if wait := reservation.DelayFrom(now); wait > 0 {
		reservation.CancelAt(now)
		return nil, wait
	}
	return reservation, 0
}

// sweep forgets clients whose bucket is full again.
func (l *clientLimiter) sweep(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for element := l.recency.Back(); element != nil; {
		previous := element.Prev()
		entry := element.Value.(*clientBucket)
		if entry.bucket.TokensAt(now) >= float64(l.burst) {
			l.recency.Remove(element)
			delete(l.clients, entry.key)
		}
		element = previous
	}
}

// size is the number of clients remembered.
func (l *clientLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
}
