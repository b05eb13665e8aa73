package review

import (
	"context"
	"crypto/sha256"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

//go:embed assets
var assets embed.FS

// ErrNoToken is returned by Serve for a TCP listener when no token is
// configured: without one any local process, or a web page reaching
// 127.0.0.1 through DNS rebinding, could decide candidates. Serve on a unix
// socket instead, or set review.token.
var ErrNoToken = errors.New("review token not set: the TCP listener needs one (or serve on the unix socket)")

// csp is the Content-Security-Policy of every response: scripts, styles and
// requests only from the page's own origin, no inline script, no framing.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// maxSessions bounds the session map; the oldest session is dropped beyond
// it, so repeated logins cannot grow memory without bound.
const maxSessions = 1000

// Options configure a Server.
type Options struct {
	// Token authenticates API clients and the page's login; "" means only
	// the unix socket is served.
	Token string
	// SessionTTL bounds a page login; default 12h.
	SessionTTL time.Duration
	// Now is the clock for sessions and snooze durations; nil = time.Now.
	Now func() time.Time
	// Log receives request failures; nil discards them.
	Log *slog.Logger
	// Sources, Outbox and Replay serve the operator endpoints (ops.go);
	// a nil one makes its endpoints answer 501.
	Sources SourceLister
	Outbox  OutboxAdmin
	Replay  Replayer
}

// Server serves the review API and page over a Queue. It is safe for
// concurrent use.
type Server struct {
	q        *Queue
	tokenSum [sha256.Size]byte
	hasToken bool
	ttl      time.Duration
	now      func() time.Time
	log      *slog.Logger
	tmpl     *template.Template
	static   http.Handler
	sources  SourceLister
	outbox   OutboxAdmin
	replay   Replayer
	// replaying is held while a replay runs, so a second one is refused
	// rather than queued behind it.
	replaying sync.Mutex

	mu       sync.Mutex         // guards sessions
	sessions map[string]session // by session id
}

// NewServer returns a Server deciding through q.
func NewServer(q *Queue, opts Options) (*Server, error) {
	tmpl, err := template.New("page").Funcs(pageFuncs).ParseFS(assets, "assets/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse review templates: %w", err)
	}
	static, err := fs.Sub(assets, "assets/static")
	if err != nil {
		return nil, fmt.Errorf("open review assets: %w", err)
	}
	s := &Server{
		q: q, ttl: opts.SessionTTL, now: opts.Now, log: opts.Log, tmpl: tmpl,
		static:   http.StripPrefix("/static/", http.FileServerFS(static)),
		sessions: map[string]session{},
		sources:  opts.Sources, outbox: opts.Outbox, replay: opts.Replay,
	}
	if s.ttl <= 0 {
		s.ttl = 12 * time.Hour
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("stage", "review")
	if opts.Token != "" {
		// Comparing digests keeps the comparison constant-time whatever
		// the lengths.
		s.tokenSum, s.hasToken = sha256.Sum256([]byte(opts.Token)), true
	}
	return s, nil
}

// Handler returns the HTTP handler. trusted marks requests that arrive on
// the unix socket: they need neither token nor session.
func (s *Server) Handler(trusted bool) http.Handler {
	mux := http.NewServeMux()
	api := func(h func(w http.ResponseWriter, r *http.Request, p principal)) http.Handler {
		return s.authAPI(trusted, h)
	}
	mux.Handle("GET /api/candidates", api(s.listCandidates))
	mux.Handle("GET /api/candidates/{id}", api(s.showCandidate))
	mux.Handle("POST /api/candidates/{id}/{action}", api(s.decideCandidate))
	mux.Handle("POST /api/undo", api(s.undo))
	mux.Handle("GET /api/decisions", api(s.listDecisions))
	s.opsRoutes(mux, api)
	mux.HandleFunc("GET /{$}", s.page)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.Handle("GET /static/", s.static)
	return securityHeaders(mux)
}

// securityHeaders sets the headers every response carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-cache")
		} else {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// Serve serves ln until ctx ends, then shuts down gracefully (in-flight
// requests get 5 seconds) and returns nil. A unix listener is trusted; a TCP
// listener without a token is closed and gives ErrNoToken.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	trusted := ln.Addr().Network() == "unix"
	if !trusted && !s.hasToken {
		// Refusing to serve is the point; the close error adds nothing.
		_ = ln.Close()
		return ErrNoToken
	}
	srv := &http.Server{
		Handler:           s.Handler(trusted),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve review on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		// Shutdown timed out: cut the remaining connections.
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve review on %s: %w", ln.Addr(), err)
	}
	return nil
}

// ListenUnix creates a unix socket at path with mode 0600 and returns its
// listener; closing the listener removes the socket. The socket is made in
// a private temporary directory, chmodded, then renamed into place, so it is
// never reachable with looser permissions. A stale socket at path (nobody
// answers) is replaced; a live one is an error.
func ListenUnix(path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("listen unix %s: exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			_ = c.Close() // only probing
			return nil, fmt.Errorf("listen unix %s: another process serves it", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("listen unix %s: remove stale socket: %w", path, err)
		}
	}
	tmp, err := os.MkdirTemp(filepath.Dir(path), ".tierwatch-sock-")
	if err != nil {
		return nil, fmt.Errorf("listen unix %s: %w", path, err)
	}
	defer os.RemoveAll(tmp) // empty once the socket is renamed out; best effort
	ln, err := net.Listen("unix", filepath.Join(tmp, "s"))
	if err != nil {
		return nil, fmt.Errorf("listen unix %s: %w", path, err)
	}
	ul := ln.(*net.UnixListener)
	ul.SetUnlinkOnClose(false)
	if err := os.Chmod(filepath.Join(tmp, "s"), 0o600); err != nil {
		_ = ln.Close() // the chmod error is the one to report
		return nil, fmt.Errorf("listen unix %s: %w", path, err)
	}
	if err := os.Rename(filepath.Join(tmp, "s"), path); err != nil {
		_ = ln.Close() // the rename error is the one to report
		return nil, fmt.Errorf("listen unix %s: %w", path, err)
	}
	return &unixListener{UnixListener: ul, path: path}, nil
}

// unixListener removes its socket file on Close.
type unixListener struct {
	*net.UnixListener
	path string
	once sync.Once
}

func (l *unixListener) Close() error {
	err := l.UnixListener.Close()
	l.once.Do(func() {
		if rerr := os.Remove(l.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
			err = rerr
		}
	})
	return err
}
