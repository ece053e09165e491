package server

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/qrlogin/qrlogin/protocol/rendezvous"
)

// Paths served. The APIs' paths are the clients' (package rendezvous); the
// 2024 session URL lives outside the POST path, where Synapse puts it.
const (
	pathMSC4388Unstable = string(rendezvous.PathUnstable)
	pathMSC4388Stable   = string(rendezvous.PathStable)
	pathETagCreate      = rendezvous.Path2024
	pathETagSession     = "/_synapse/client/rendezvous/"
	pathVersions        = rendezvous.PathVersions
)

// Server is an http.Handler that serves rendezvous sessions of both
// protocol generations on one listener: MSC4388 (sequence tokens, JSON)
// under its unstable and /v1/ prefixes, and the 2024 MSC4108 ETag API.
// Sessions live in memory; a background sweeper reclaims expired ones
// until Close.
type Server struct {
	cfg     Config
	store   *store
	minter  *tokenMinter
	limiter *clientLimiter // nil: unlimited
	// creations limits the sessions each client creates; nil: unlimited.
	creations *clientLimiter
	proxies   proxyPolicy
	verifier  *tokenVerifier // nil: ModeAuthenticated is not in use
	mux       *http.ServeMux

	stop        chan struct{}
	sweeperDone chan struct{}
	closeOnce   sync.Once
}

// New builds a server and starts its sweeper; call Close to stop it. Zero
// fields of cfg take their defaults (see Config). Check cfg with Validate
// first: in ModeAuthenticated without a Homeserver every creation fails
// with 502.
func New(cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:         cfg,
		store:       newStore(cfg.MaxSessions, cfg.MaxSessionsPerClient),
		minter:      newTokenMinter(),
		proxies:     newProxyPolicy(cfg.TrustedProxies, cfg.TrustForwardedFor),
		stop:        make(chan struct{}),
		sweeperDone: make(chan struct{}),
	}
	if !cfg.Rate.Unlimited() {
		s.limiter = newClientLimiter(cfg.Rate, cfg.MaxClients)
	}
	if !cfg.CreateRate.Unlimited() {
		s.creations = newClientLimiter(cfg.CreateRate, cfg.MaxClients)
	}
	if cfg.Mode == ModeAuthenticated {
		s.verifier = newTokenVerifier(cfg.Homeserver, cfg.HTTPClient, cfg.TokenCacheTTL)
	}
	s.mux = s.newMux()
	go s.sweepLoop()
	return s
}

// Validate reports configuration mistakes New would otherwise live
// with: a missing Homeserver in ModeAuthenticated, malformed URLs, an
// unknown mode, an invalid trusted proxy prefix.
func (c Config) Validate() error {
	var problems []error
	switch c.Mode {
	case ModeOpen, ModeOff:
	case ModeAuthenticated:
		if c.Homeserver == "" {
			problems = append(problems, errors.New("authenticated mode needs the homeserver URL that checks access tokens"))
		}
	default:
		problems = append(problems, errors.New("unknown mode "+c.Mode.String()))
	}
	for _, u := range []struct{ name, value string }{{"public URL", c.PublicURL}, {"homeserver URL", c.Homeserver}} {
		if u.value != "" && !strings.HasPrefix(u.value, "http://") && !strings.HasPrefix(u.value, "https://") {
			problems = append(problems, errors.New(u.name+" must start with http:// or https://"))
		}
	}
	for _, prefix := range c.TrustedProxies {
		if !prefix.IsValid() {
			problems = append(problems, errors.New("a trusted proxy is not a valid address prefix"))
			break
		}
	}
	if err := errors.Join(problems...); err != nil {
		return errors.New("rendezvous server config: " + strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return nil
}

// Close stops the sweeper. The handler keeps answering (expired sessions
// are still reclaimed lazily); Close is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.sweeperDone
	})
}

// Routes lists the http.ServeMux patterns this handler answers, for a
// homeserver that mounts it next to its own endpoints:
//
//	for _, pattern := range rv.Routes() { mux.Handle(pattern, rv) }
func (s *Server) Routes() []string {
	var patterns []string
	if s.cfg.Mode != ModeOff {
		patterns = append(patterns, pathMSC4388Unstable, pathMSC4388Unstable+"/")
		if !s.cfg.UnstableOnly {
			patterns = append(patterns, pathMSC4388Stable, pathMSC4388Stable+"/")
		}
	}
	if !s.cfg.DisableETag {
		patterns = append(patterns, pathETagCreate, pathETagCreate+"/", pathETagSession)
	}
	if s.cfg.ServeVersions {
		patterns = append(patterns, pathVersions)
	}
	return patterns
}

func (s *Server) sweepLoop() {
	defer close(s.sweeperDone)
	ticker := time.NewTicker(s.cfg.SweepInterval)
	defer ticker.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-ticker.C:
			s.sweep()
		}
	}
}

// sweep reclaims expired sessions, idle rate-limiter entries and expired
// cached token answers.
func (s *Server) sweep() {
	now := s.cfg.Now()
	s.store.reclaimExpired(now)
	if s.limiter != nil {
		s.limiter.sweep(now)
	}
	if s.creations != nil {
		s.creations.sweep(now)
	}
	if s.verifier != nil {
		s.verifier.sweep(now)
	}
}

// insert stores a new session, created by the client of r, under a fresh
// random ID; mint, when set, derives the session's first token from the
// ID. It answers 429 itself when the client may not create another
// session now (CreateRate, MaxSessionsPerClient) or the store is full, and
// then returns ok == false. Only a session actually stored is charged to
// the creation rate.
func (s *Server) insert(w http.ResponseWriter, r *http.Request, now time.Time, sess *session, mint func(id string) string) (id string, ok bool) {
	if s.creations != nil || s.cfg.MaxSessionsPerClient > 0 {
		sess.owner = s.proxies.clientKey(r)
	}
	var charged *rate.Reservation
	if s.creations != nil {
		var wait time.Duration
		if charged, wait = s.creations.take(sess.owner, now); charged == nil {
			writeLimited(w, "Too many rendezvous sessions created from this address; try again later", wait)
			return "", false
		}
	}
	// Only a stored session is charged: every other way out gives the
	// creation back.
	defer func() {
		if !ok && charged != nil {
			charged.CancelAt(now)
		}
	}()
	// A duplicate among 2^128 IDs means a broken random source; a few
	// attempts make the loop terminate regardless.
	for range 4 {
		id = newSessionID()
		if mint != nil {
			sess.token = mint(id)
		}
		result, wait := s.store.add(now, id, sess)
		switch result {
		case added:
			return id, true
		case clientFull:
			writeLimited(w, "Too many live rendezvous sessions from this address", wait)
			return "", false
		case storeFull:
			writeLimited(w, "Too many live rendezvous sessions on this server", wait)
			return "", false
		}
	}
	writeError(w, http.StatusServiceUnavailable, rendezvous.ErrcodeUnknown, "Could not allocate a session ID")
	return "", false
}

// authorize applies ModeAuthenticated to discovery and creation; it
// answers the request itself and returns false when access is refused.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	if s.verifier == nil {
		return true
	}
	err := s.verifier.verify(r.Context(), accessToken(r), s.cfg.Now())
	switch {
	case err == nil:
		return true
	case errors.Is(err, errMissingToken):
		writeError(w, http.StatusUnauthorized, errcodeMissingToken, "Missing access token")
	case errors.Is(err, errUnknownToken):
		writeError(w, http.StatusUnauthorized, errcodeUnknownToken, "Unrecognised access token")
	default:
		writeError(w, http.StatusBadGateway, rendezvous.ErrcodeUnknown, "Could not check the access token with the homeserver")
	}
	return false
}

// serveVersions advertises the 2024 API the way Synapse does when
// msc4108_enabled is set (docs/protocol-divergences.md "2024 rendezvous"):
// Element Web checks this flag before creating a session on a server.
// MSC4388 has no flag; clients probe GET …/rendezvous ("MSC4388 discovery"
// there). The versions list is required by the spec; a standalone
// rendezvous server implements no other endpoint, so it names only the
// oldest stable version.
func (s *Server) serveVersions(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"versions":          []string{"v1.1"},
		"unstable_features": map[string]bool{rendezvous.Feature2024: !s.cfg.DisableETag},
	})
}
