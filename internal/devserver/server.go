package devserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Server is the development homeserver. It is an http.Handler; Start serves
// it on a loopback address. All state is in memory behind one mutex.
type Server struct {
	cfg Config
	mux *http.ServeMux

	mu         sync.Mutex
	baseURL    string // no trailing slash; "" until New or Start sets it
	serverName string
	acct       *account
	rendezvous http.Handler // nil when no rendezvous handler could be built

	clients           map[string]*oauthClient // by client_id
	clientsByMetadata map[string]string       // canonical metadata → client_id
	grants            map[string]*deviceGrant // by device_code
	grantsByUserCode  map[string]*deviceGrant
	accessTokens      map[string]*oauthSession
	refreshTokens     map[string]*oauthSession
	devices           map[string]*device
	faults            []*Fault
	whoamiFaults      []*WhoamiFault
	grantAdded        chan struct{} // closed when a device authorization starts

	httpServer *http.Server
	// stopOnDone cancels the Close that Start arranged for when its
	// context ends; nil before Start.
	stopOnDone func() bool
	closed     bool
}

// New builds a Server. Without cfg.BaseURL it answers 503 until Start has
// chosen its address (the account's user ID depends on the server name).
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:               cfg,
		clients:           map[string]*oauthClient{},
		clientsByMetadata: map[string]string{},
		grants:            map[string]*deviceGrant{},
		grantsByUserCode:  map[string]*deviceGrant{},
		accessTokens:      map[string]*oauthSession{},
		refreshTokens:     map[string]*oauthSession{},
		devices:           map[string]*device{},
	}
	s.mux = s.routes()
	if cfg.BaseURL != "" {
		if err := s.setBaseURL(cfg.BaseURL); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// setBaseURL fixes the public URL, the server name and with them the test
// account's user ID and keys.
func (s *Server) setBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("devserver: base URL %q must be an absolute http(s) URL without query", raw)
	}
	base := strings.TrimSuffix(u.String(), "/")
	acct, err := newAccount("@"+s.cfg.UserLocalpart+":"+u.Host, !s.cfg.NoBackup)
	if err != nil {
		return fmt.Errorf("devserver: test account: %w", err)
	}
	rv, err := s.buildRendezvous(base)
	if err != nil {
		acct.zero()
		return err
	}
	s.mu.Lock()
	var refused error
	switch {
	case s.closed:
		refused = errors.New("devserver: server is closed")
	case s.baseURL != "":
		refused = errors.New("devserver: base URL already set")
	default:
		s.baseURL, s.serverName, s.acct, s.rendezvous = base, u.Host, acct, rv
	}
	s.mu.Unlock()
	if refused != nil {
		// Close has run or will not see these: end them here, or the
		// rendezvous server's sweeper goroutine outlives the dev server.
		acct.zero()
		return errors.Join(refused, closeRendezvous(rv))
	}
	return nil
}

// Start listens on addr (use "127.0.0.1:0" for a free port), fixes the base
// URL from the address unless Config.BaseURL set it, and serves in the
// background until ctx ends or Close is called. It returns once the
// listener is open, so URL is valid afterwards.
func (s *Server) Start(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("devserver: listen: %w", err)
	}
	if s.URL() == "" {
		if err := s.setBaseURL("http://" + ln.Addr().String()); err != nil {
			ln.Close()
			return err
		}
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	if s.httpServer != nil || s.closed {
		s.mu.Unlock()
		ln.Close()
		return errors.New("devserver: already started or closed")
	}
	s.httpServer = srv
	// No goroutine waits for ctx: one would outlive Close for a context
	// that never ends (context.Background).
	s.stopOnDone = context.AfterFunc(ctx, func() { _ = s.Close() })
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return nil
}

// URL is the base URL ("http://127.0.0.1:port"), "" before it is known.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baseURL
}

// ConsentURL is the verification URI: the consent page.
func (s *Server) ConsentURL() string {
	base := s.URL()
	if base == "" {
		return ""
	}
	return base + pathConsent
}

// UserID is the test account's Matrix user ID, "" before the URL is known.
func (s *Server) UserID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.acct == nil {
		return ""
	}
	return s.acct.userID
}

// AccountSecrets returns the test account's private keys for the scripted
// phone's m.login.secrets message.
func (s *Server) AccountSecrets() (AccountSecrets, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.acct == nil || s.closed {
		return AccountSecrets{}, errNotReady
	}
	return s.acct.secrets(), nil
}

// ReplaceBackup gives the test account a new key backup, as when another
// device resets it: a fresh key under the next version. AccountSecrets
// shares the new one from now on; a phone that kept the old one shares an
// older backup_version than GET room_keys/version answers.
func (s *Server) ReplaceBackup() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.acct == nil || s.closed {
		return errNotReady
	}
	return s.acct.newBackup()
}

// DeleteBackup removes the test account's key backup, as when the user
// turns it off on another device: GET room_keys/version answers 404
// M_NOT_FOUND, and AccountSecrets shares no backup key.
func (s *Server) DeleteBackup() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.acct == nil || s.closed {
		return errNotReady
	}
	s.acct.deleteBackup()
	return nil
}

// PublicKeys returns the test account's published public keys.
func (s *Server) PublicKeys() (CrossSigningPublicKeys, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.acct == nil || s.closed {
		return CrossSigningPublicKeys{}, errNotReady
	}
	return s.acct.publicKeys(), nil
}

var errNotReady = errors.New("devserver: server has no base URL yet (call Start) or is closed")

// Close stops serving (if Start was used), ends the rendezvous handler (the
// default one's sweeper goroutine; see closeRendezvous) and zeroes the
// account's private keys.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	srv, rv := s.httpServer, s.rendezvous
	if s.stopOnDone != nil {
		s.stopOnDone()
	}
	if s.acct != nil {
		s.acct.zero()
	}
	s.mu.Unlock()
	var err error
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err = srv.Shutdown(ctx); err != nil {
			err = srv.Close()
		}
	}
	return errors.Join(err, closeRendezvous(rv))
}

// ServeHTTP sets Synapse's CORS headers on the Matrix paths, answers their
// preflights, applies injected faults, then routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cors := synapseCORSPath(r.URL.Path)
	if cors {
		setSynapseCORS(w.Header())
	}
	preflight := cors && r.Method == http.MethodOptions
	s.mu.Lock()
	ready, closed := s.baseURL != "", s.closed
	var fault *Fault
	if !preflight { // a preflight must not use up a fault meant for the request
		fault = s.takeFault(r.URL.Path)
	}
	s.mu.Unlock()
	switch {
	case closed:
		writeMatrixError(w, http.StatusServiceUnavailable, "M_UNKNOWN", "server is shutting down")
	case !ready:
		writeMatrixError(w, http.StatusServiceUnavailable, "M_UNKNOWN", "server has no base URL yet")
	case preflight:
		answerPreflight(w)
	case fault != nil:
		fault.write(w)
	default:
		s.mux.ServeHTTP(w, r)
	}
}

// Paths of the OAuth side (MAS serves them on its own host; here they
// share the homeserver's).
const (
	pathRegistration = "/oauth2/registration"
	pathDevice       = "/oauth2/device"
	pathToken        = "/oauth2/token"
	pathRevoke       = "/oauth2/revoke"
	pathJWKS         = "/oauth2/keys.json"
	pathAuthorize    = "/authorize"
	pathConsent      = "/link"
)

func (s *Server) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("/", notFound)
	m.HandleFunc("GET /.well-known/matrix/client", s.handleWellKnown)
	m.HandleFunc("GET /_matrix/client/versions", s.handleVersions)
	for _, p := range []string{
		"/_matrix/client/v1/auth_metadata",
		"/_matrix/client/unstable/org.matrix.msc2965/auth_metadata",
		"/.well-known/openid-configuration",
		"/.well-known/oauth-authorization-server",
	} {
		m.HandleFunc("GET "+p, s.handleAuthMetadata)
	}
	m.HandleFunc("GET "+pathJWKS, handleJWKS)
	m.HandleFunc(pathAuthorize, handleAuthorize)
	m.HandleFunc("POST "+pathRegistration, s.handleRegistration)
	m.HandleFunc("POST "+pathDevice, s.handleDeviceAuthorization)
	m.HandleFunc("POST "+pathToken, s.handleToken)
	m.HandleFunc("POST "+pathRevoke, s.handleRevoke)
	m.HandleFunc("GET "+pathConsent, s.handleConsentPage)
	m.HandleFunc("POST "+pathConsent, s.handleConsentSubmit)

	m.HandleFunc("GET /_matrix/client/v3/account/whoami", s.withAuth(s.handleWhoami))
	m.HandleFunc("GET /_matrix/client/v3/devices", s.withAuth(s.handleDevices))
	m.HandleFunc("GET /_matrix/client/v3/devices/{deviceID}", s.withAuth(s.handleDevice))
	m.HandleFunc("POST /_matrix/client/v3/keys/upload", s.withAuth(s.handleKeysUpload))
	m.HandleFunc("POST /_matrix/client/v3/keys/query", s.withAuth(s.handleKeysQuery))
	m.HandleFunc("GET /_matrix/client/v3/room_keys/version", s.withAuth(s.handleBackupVersion))
	m.HandleFunc("GET /_matrix/client/v3/room_keys/version/{version}", s.withAuth(s.handleBackupVersion))

	for _, p := range rendezvousPrefixes {
		m.HandleFunc(p, s.handleRendezvous)
		m.HandleFunc(p+"/", s.handleRendezvous)
	}
	return m
}
