package review

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Sessions: the page logs in once with the token (POST /login) and gets a
// random session id in an HttpOnly, SameSite=Strict cookie. The server keeps
// the sessions in memory (a restart logs everyone out) with their expiry
// and their CSRF token, which state-changing requests must echo in the
// X-CSRF-Token header.

const (
	sessionCookie = "tierwatch_session"
	csrfHeader    = "X-CSRF-Token"
)

type session struct {
	csrf    string
	who     string
	expires time.Time
}

// principal is who made a request and how it was authenticated.
type principal struct {
	kind string // "socket", "token" or "session"
	who  string // default reviewer name for decisions
}

// randomID returns 32 random bytes, base64url-encoded.
func randomID() string {
	b := make([]byte, 32)
	// crypto/rand.Read never returns an error (Go 1.24+); it panics instead.
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// checkToken compares a presented token with the configured one in
// constant time.
func (s *Server) checkToken(tok string) bool {
	if !s.hasToken || tok == "" {
		return false
	}
	sum := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(sum[:], s.tokenSum[:]) == 1
}

// sessionOf returns the live session of r's cookie.
func (s *Server) sessionOf(r *http.Request) (string, session, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return "", session{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[ck.Value]
	if !ok {
		return "", session{}, false
	}
	if !s.now().Before(sess.expires) {
		delete(s.sessions, ck.Value)
		return "", session{}, false
	}
	return ck.Value, sess, true
}

// newSession stores a session and returns its id, dropping expired
// sessions and, beyond maxSessions, the one that expires first.
func (s *Server) newSession(who string) (string, session) {
	now := s.now()
	id := randomID()
	sess := session{csrf: randomID(), who: who, expires: now.Add(s.ttl)}
	s.mu.Lock()
	defer s.mu.Unlock()
	var oldest string
	for k, v := range s.sessions {
		if !now.Before(v.expires) {
			delete(s.sessions, k)
			continue
		}
		if oldest == "" || v.expires.Before(s.sessions[oldest].expires) {
			oldest = k
		}
	}
	if len(s.sessions) >= maxSessions && oldest != "" {
		delete(s.sessions, oldest)
	}
	s.sessions[id] = sess
	return id, sess
}

// crossSite reports whether a browser says r comes from another site.
// Sec-Fetch-Site decides when present (same-origin and none pass). Else an
// Origin must name the request's Host. Browsers send "Origin: null" for our
// own POSTs because every response sets Referrer-Policy: no-referrer, so a
// null Origin counts only when Sec-Fetch-Site is absent, and then as cross
// site. Non-browser clients send neither header and pass.
func crossSite(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site != "same-origin" && site != "none"
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	return err != nil || u.Host != r.Host
}

// authAPI wraps an API handler: requests on the unix socket pass; others
// need a bearer token or a session, and a session's POSTs need the CSRF
// token; cross-site browser POSTs are refused whatever they carry.
func (s *Server) authAPI(trusted bool, h func(http.ResponseWriter, *http.Request, principal)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		unsafe := r.Method != http.MethodGet && r.Method != http.MethodHead
		if unsafe && crossSite(r) {
			writeError(w, http.StatusForbidden, "forbidden", "cross-site request refused")
			return
		}
		if trusted {
			h(w, r, principal{kind: "socket", who: "socket"})
			return
		}
		if auth := r.Header.Get("Authorization"); auth != "" {
			tok, ok := strings.CutPrefix(auth, "Bearer ")
			if !ok || !s.checkToken(tok) {
				s.log.Warn("review api: bad token", "remote", r.RemoteAddr)
				writeError(w, http.StatusUnauthorized, "unauthorized", "bad token")
				return
			}
			h(w, r, principal{kind: "token", who: "api"})
			return
		}
		_, sess, ok := s.sessionOf(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tierwatch"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "log in or send Authorization: Bearer <token>")
			return
		}
		if unsafe {
			got := r.Header.Get(csrfHeader)
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.csrf)) != 1 {
				writeError(w, http.StatusForbidden, "forbidden", "missing or wrong CSRF token")
				return
			}
		}
		h(w, r, principal{kind: "session", who: sess.who})
	})
}

// login checks the token from the login form and starts a session.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if crossSite(r) {
		http.Error(w, "cross-site request refused", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if !s.checkToken(r.PostForm.Get("token")) {
		s.log.Warn("review login refused", "remote", r.RemoteAddr)
		w.WriteHeader(http.StatusUnauthorized)
		s.render(w, "login.html", loginView{Failed: true})
		return
	}
	who := strings.TrimSpace(r.PostForm.Get("who"))
	if checkWho(who) != nil {
		who = "web"
	}
	id, _ := s.newSession(who)
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: id, Path: "/", MaxAge: int(s.ttl / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logout ends the session (CSRF-checked like every state change).
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	id, sess, ok := s.sessionOf(r)
	if crossSite(r) || !ok {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil || subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(sess.csrf)) != 1 {
		http.Error(w, "missing or wrong CSRF token", http.StatusForbidden)
		return
	}
	s.mu.Lock()
	delete(s.sessions, id)
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
