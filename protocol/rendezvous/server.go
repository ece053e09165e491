package rendezvous

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Paths served. MSC4388 "Unstable prefix" names the unstable MSC4388 path;
// the 2024 paths are Synapse's (REFERENCE-IMPLEMENTATIONS.md §3.1); the
// session URL of the 2024 API lives outside the POST path.
const (
	srvPathMSC4388Unstable = "/_matrix/client/unstable/io.element.msc4388/rendezvous"
	srvPathMSC4388Stable   = "/_matrix/client/v1/rendezvous"
	srvPathETagCreate      = "/_matrix/client/unstable/org.matrix.msc4108/rendezvous"
	srvPathETagSession     = "/_synapse/client/rendezvous/"
	srvPathVersions        = "/_matrix/client/versions"
)

// Server is an http.Handler that serves rendezvous sessions of both
// protocol generations on one listener: MSC4388 (sequence tokens, JSON)
// under its unstable and /v1/ prefixes, and the 2024 MSC4108 ETag API.
// Sessions live in memory; a background sweeper reclaims expired ones
// until Close.
type Server struct {
	cfg      ServerConfig
	store    *srvStore
	minter   *srvTokenMinter
	limiter  *clientLimiter    // nil: unlimited
	verifier *srvTokenVerifier // nil: ModeAuthenticated is not in use

	stop        chan struct{}
	sweeperDone chan struct{}
	closeOnce   sync.Once
}

// NewServer builds a server and starts its sweeper; call Close to stop it.
// Zero fields of cfg take their defaults (see ServerConfig). Check cfg
// with Validate first: in ModeAuthenticated without a Homeserver every
// creation fails with 502.
func NewServer(cfg ServerConfig) *Server {
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:         cfg,
		store:       newSrvStore(cfg.MaxSessions),
		minter:      newSrvTokenMinter(),
		stop:        make(chan struct{}),
		sweeperDone: make(chan struct{}),
	}
	if !cfg.Rate.Unlimited() {
		s.limiter = newClientLimiter(cfg.Rate, cfg.MaxClients)
	}
	if cfg.Mode == ModeAuthenticated {
		s.verifier = newSrvTokenVerifier(cfg.Homeserver, cfg.HTTPClient, cfg.TokenCacheTTL)
	}
	go s.sweepLoop()
	return s
}

// Validate reports configuration mistakes NewServer would otherwise live
// with: a missing Homeserver in ModeAuthenticated, malformed URLs, an
// unknown mode.
func (c ServerConfig) Validate() error {
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
		patterns = append(patterns, srvPathMSC4388Unstable, srvPathMSC4388Unstable+"/")
		if !s.cfg.UnstableOnly {
			patterns = append(patterns, srvPathMSC4388Stable, srvPathMSC4388Stable+"/")
		}
	}
	if !s.cfg.DisableETag {
		patterns = append(patterns, srvPathETagCreate, srvPathETagCreate+"/", srvPathETagSession)
	}
	if s.cfg.ServeVersions {
		patterns = append(patterns, srvPathVersions)
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
	if s.verifier != nil {
		s.verifier.sweep(now)
	}
}

// srvEndpoint is what a path addresses.
type srvEndpoint int

const (
	srvNoEndpoint srvEndpoint = iota
	srvMSC4388Collection
	srvMSC4388Session
	srvETagCollection
	srvETagSession
	srvVersions
)

// srvRoute is a parsed request path.
type srvRoute struct {
	endpoint srvEndpoint
	stable   bool   // an MSC4388 /v1/ path (decides the 409 errcode)
	id       string // the session ID for session endpoints
}

func (s *Server) route(path string) srvRoute {
	if s.cfg.Mode != ModeOff {
		if r, ok := srvMatchCollection(path, srvPathMSC4388Unstable, srvMSC4388Collection, srvMSC4388Session); ok {
			return r
		}
		if !s.cfg.UnstableOnly {
			if r, ok := srvMatchCollection(path, srvPathMSC4388Stable, srvMSC4388Collection, srvMSC4388Session); ok {
				r.stable = true
				return r
			}
		}
	}
	if !s.cfg.DisableETag {
		if path == srvPathETagCreate || path == srvPathETagCreate+"/" {
			return srvRoute{endpoint: srvETagCollection}
		}
		if id, ok := strings.CutPrefix(path, srvPathETagSession); ok {
			return srvRoute{endpoint: srvETagSession, id: id}
		}
	}
	if s.cfg.ServeVersions && path == srvPathVersions {
		return srvRoute{endpoint: srvVersions}
	}
	return srvRoute{}
}

// srvMatchCollection matches prefix (with an optional trailing slash) and
// prefix/{id}.
func srvMatchCollection(path, prefix string, collection, session srvEndpoint) (srvRoute, bool) {
	rest, ok := strings.CutPrefix(path, prefix)
	switch {
	case !ok:
		return srvRoute{}, false
	case rest == "" || rest == "/":
		return srvRoute{endpoint: collection}, true
	case rest[0] == '/':
		return srvRoute{endpoint: session, id: rest[1:]}, true
	default: // e.g. …/rendezvousX
		return srvRoute{}, false
	}
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	srvSetCORS(w.Header())
	route := s.route(r.URL.Path)
	if route.endpoint == srvNoEndpoint {
		srvWriteError(w, http.StatusNotFound, srvErrUnrecognized, "Unrecognized request")
		return
	}
	if r.Method == http.MethodOptions { // CORS preflight: the headers say it all
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	// MSC4388 marks every endpoint "Rate-limited: Yes".
	if s.limiter != nil {
		if ok, wait := s.limiter.allow(srvClientKey(r, s.cfg.TrustForwardedFor), s.cfg.Now()); !ok {
			srvWriteLimited(w, "Too many requests", wait)
			return
		}
	}
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case route.endpoint == srvMSC4388Collection && get:
		s.msc4388Discover(w, r)
	case route.endpoint == srvMSC4388Collection && r.Method == http.MethodPost:
		s.msc4388Create(w, r)
	case route.endpoint == srvMSC4388Session && get:
		s.msc4388Get(w, r, route)
	case route.endpoint == srvMSC4388Session && r.Method == http.MethodPut:
		s.msc4388Put(w, r, route)
	case route.endpoint == srvMSC4388Session && r.Method == http.MethodDelete:
		s.msc4388Delete(w, route)
	case route.endpoint == srvETagCollection && r.Method == http.MethodPost:
		s.etagCreate(w, r)
	case route.endpoint == srvETagSession && get:
		s.etagGet(w, r, route)
	case route.endpoint == srvETagSession && r.Method == http.MethodPut:
		s.etagPut(w, r, route)
	case route.endpoint == srvETagSession && r.Method == http.MethodDelete:
		s.etagDelete(w, route)
	case route.endpoint == srvVersions && get:
		s.serveVersions(w)
	default:
		w.Header().Set("Allow", srvAllowedMethods[route.endpoint])
		srvWriteError(w, http.StatusMethodNotAllowed, srvErrUnrecognized, "Unrecognized request method")
	}
}

var srvAllowedMethods = map[srvEndpoint]string{
	srvMSC4388Collection: "GET, HEAD, POST, OPTIONS",
	srvMSC4388Session:    "GET, HEAD, PUT, DELETE, OPTIONS",
	srvETagCollection:    "POST, OPTIONS",
	srvETagSession:       "GET, HEAD, PUT, DELETE, OPTIONS",
	srvVersions:          "GET, HEAD, OPTIONS",
}

// insert stores a new session under a fresh random ID; mint, when set,
// derives the session's first token from the ID. It answers 429 itself
// when the store is full and then returns ok == false.
func (s *Server) insert(w http.ResponseWriter, now time.Time, session *srvSession, mint func(id string) string) (id string, ok bool) {
	// A duplicate among 2^128 IDs means a broken random source; a few
	// attempts make the loop terminate regardless.
	for range 4 {
		id = srvNewSessionID()
		if mint != nil {
			session.token = mint(id)
		}
		result, wait := s.store.add(now, id, session)
		switch result {
		case srvAdded:
			return id, true
		case srvStoreFull:
			srvWriteLimited(w, "Too many live rendezvous sessions on this server", wait)
			return "", false
		}
	}
	srvWriteError(w, http.StatusServiceUnavailable, srvErrUnknown, "Could not allocate a session ID")
	return "", false
}

// authorize applies ModeAuthenticated to discovery and creation; it
// answers the request itself and returns false when access is refused.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	if s.verifier == nil {
		return true
	}
	err := s.verifier.verify(r.Context(), srvAccessToken(r), s.cfg.Now())
	switch {
	case err == nil:
		return true
	case errors.Is(err, errSrvMissingToken):
		srvWriteError(w, http.StatusUnauthorized, srvErrMissingToken, "Missing access token")
	case errors.Is(err, errSrvUnknownToken):
		srvWriteError(w, http.StatusUnauthorized, srvErrUnknownToken, "Unrecognised access token")
	default:
		srvWriteError(w, http.StatusBadGateway, srvErrUnknown, "Could not check the access token with the homeserver")
	}
	return false
}

// serveVersions advertises the 2024 API the way Synapse does when
// msc4108_enabled is set (REFERENCE-IMPLEMENTATIONS.md §3.1): Element Web
// checks this flag before creating a session on a server. MSC4388 has no
// flag; clients probe GET …/rendezvous (§1.9 row 19). The versions list
// is required by the spec; a standalone rendezvous server implements no
// other endpoint, so it names only the oldest stable version.
func (s *Server) serveVersions(w http.ResponseWriter) {
	srvWriteJSON(w, http.StatusOK, map[string]any{
		"versions":          []string{"v1.1"},
		"unstable_features": map[string]bool{"org.matrix.msc4108": !s.cfg.DisableETag},
	})
}
