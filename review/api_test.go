package review

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/storage"
)

const testToken = "t0ken-Secret-123"

const (
	idA = "2025-03-01--amazon-wins-ice-contract"
	idB = "2025-03-02--ice-expands-aws-use"
)

type apiEnv struct {
	st  *storage.Store
	srv *httptest.Server
	s   *Server
}

func newAPI(t *testing.T) *apiEnv {
	t.Helper()
	st := openStore(t)
	seed(t, st, cand(idA, "Amazon wins ICE contract", 5), cand(idB, "ICE expands AWS use", 4))
	s, err := NewServer(newQueue(st), Options{Token: testToken, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler(false))
	t.Cleanup(srv.Close)
	return &apiEnv{st: st, srv: srv, s: s}
}

// do sends a request; hdr values "" are left out.
func (e *apiEnv) do(t *testing.T, method, path, body string, hdr map[string]string) (int, string, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(data), resp.Header
}

// login starts a session and returns its cookie and CSRF token.
func (e *apiEnv) login(t *testing.T) (cookie, csrf string) {
	t.Helper()
	status, _, h := e.do(t, "POST", "/login", url.Values{"token": {testToken}, "who": {"dana"}}.Encode(),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if status != http.StatusSeeOther {
		t.Fatalf("login status %d", status)
	}
	ck := h.Get("Set-Cookie")
	for _, want := range []string{"tierwatch_session=", "HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(ck, want) {
			t.Errorf("cookie %q lacks %q", ck, want)
		}
	}
	cookie, _, _ = strings.Cut(ck, ";")
	_, page, _ := e.do(t, "GET", "/", "", map[string]string{"Cookie": cookie})
	m := regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf token in page:\n%s", page)
	}
	return cookie, m[1]
}

func TestAPIDecisions(t *testing.T) {
	bearer := map[string]string{"Authorization": "Bearer " + testToken, "Content-Type": "application/json"}
	tests := []struct {
		name        string
		method      string
		path, body  string
		auth        string // "bearer", "session", "session-no-csrf", "wrong-token", "none"
		hdr         map[string]string
		wantStatus  int
		wantCode    string
		wantStatus2 string // candidate idA's status afterwards
	}{
		{name: "accept", method: "POST", path: "/api/candidates/" + idA + "/accept", body: `{"version":1,"who":"alice","edit":{"importance":8,"status":"reported"}}`, auth: "bearer", wantStatus: 200, wantStatus2: "accepted"},
		{name: "reject", method: "POST", path: "/api/candidates/" + idA + "/reject", body: `{"version":1,"reason":"off topic"}`, auth: "bearer", wantStatus: 200, wantStatus2: "rejected"},
		{name: "snooze", method: "POST", path: "/api/candidates/" + idA + "/snooze", body: `{"version":1,"until":"48h"}`, auth: "bearer", wantStatus: 200, wantStatus2: "snoozed"},
		{name: "dup", method: "POST", path: "/api/candidates/" + idA + "/dup", body: `{"version":1,"target":"` + idB + `"}`, auth: "bearer", wantStatus: 200, wantStatus2: "duplicate"},
		{name: "edit", method: "POST", path: "/api/candidates/" + idA + "/edit", body: `{"version":1,"edit":{"tags":["ice","cloud"]}}`, auth: "bearer", wantStatus: 200, wantStatus2: "pending"},
		{name: "session with csrf", method: "POST", path: "/api/candidates/" + idA + "/accept", body: `{"version":1}`, auth: "session", wantStatus: 200, wantStatus2: "accepted"},

		{name: "accept unknown id", method: "POST", path: "/api/candidates/2025-01-01--nope/accept", body: `{}`, auth: "bearer", wantStatus: 404, wantCode: "not_found"},
		{name: "reject unknown id", method: "POST", path: "/api/candidates/2025-01-01--nope/reject", body: `{}`, auth: "bearer", wantStatus: 404, wantCode: "not_found"},
		{name: "snooze unknown id", method: "POST", path: "/api/candidates/2025-01-01--nope/snooze", body: `{"until":"1h"}`, auth: "bearer", wantStatus: 404, wantCode: "not_found"},
		{name: "dup unknown target", method: "POST", path: "/api/candidates/" + idA + "/dup", body: `{"target":"2025-01-01--nope"}`, auth: "bearer", wantStatus: 404, wantCode: "not_found"},
		{name: "edit unknown id", method: "POST", path: "/api/candidates/2025-01-01--nope/edit", body: `{"edit":{"importance":2}}`, auth: "bearer", wantStatus: 404, wantCode: "not_found"},
		{name: "show unknown id", method: "GET", path: "/api/candidates/2025-01-01--nope", auth: "bearer", wantStatus: 404, wantCode: "not_found"},
		{name: "unknown action", method: "POST", path: "/api/candidates/" + idA + "/promote", body: `{}`, auth: "bearer", wantStatus: 404, wantCode: "not_found"},

		{name: "accept stale", method: "POST", path: "/api/candidates/" + idA + "/accept", body: `{"version":2}`, auth: "bearer", wantStatus: 409, wantCode: "stale", wantStatus2: "pending"},
		{name: "reject stale", method: "POST", path: "/api/candidates/" + idA + "/reject", body: `{"version":9}`, auth: "bearer", wantStatus: 409, wantCode: "stale", wantStatus2: "pending"},
		{name: "snooze stale", method: "POST", path: "/api/candidates/" + idA + "/snooze", body: `{"version":9,"until":"1h"}`, auth: "bearer", wantStatus: 409, wantCode: "stale", wantStatus2: "pending"},
		{name: "dup stale", method: "POST", path: "/api/candidates/" + idA + "/dup", body: `{"version":9,"target":"` + idB + `"}`, auth: "bearer", wantStatus: 409, wantCode: "stale", wantStatus2: "pending"},
		{name: "edit stale", method: "POST", path: "/api/candidates/" + idA + "/edit", body: `{"version":9,"edit":{"importance":2}}`, auth: "bearer", wantStatus: 409, wantCode: "stale", wantStatus2: "pending"},
		{name: "undo with nothing to undo", method: "POST", path: "/api/undo", body: `{}`, auth: "bearer", wantStatus: 409, wantCode: "nothing_to_undo"},

		{name: "bad importance", method: "POST", path: "/api/candidates/" + idA + "/accept", body: `{"edit":{"importance":0.5}}`, auth: "bearer", wantStatus: 400, wantCode: "invalid", wantStatus2: "pending"},
		{name: "bad until", method: "POST", path: "/api/candidates/" + idA + "/snooze", body: `{"until":"soon"}`, auth: "bearer", wantStatus: 400, wantCode: "invalid", wantStatus2: "pending"},
		{name: "unknown field", method: "POST", path: "/api/candidates/" + idA + "/accept", body: `{"versoin":1}`, auth: "bearer", wantStatus: 400, wantCode: "invalid", wantStatus2: "pending"},

		{name: "accept without token", method: "POST", path: "/api/candidates/" + idA + "/accept", body: `{}`, auth: "none", wantStatus: 401, wantCode: "unauthorized", wantStatus2: "pending"},
		{name: "list without token", method: "GET", path: "/api/candidates", auth: "none", wantStatus: 401, wantCode: "unauthorized"},
		{name: "undo without token", method: "POST", path: "/api/undo", body: `{}`, auth: "none", wantStatus: 401, wantCode: "unauthorized"},
		{name: "wrong token", method: "POST", path: "/api/candidates/" + idA + "/reject", body: `{}`, auth: "wrong-token", wantStatus: 401, wantCode: "unauthorized", wantStatus2: "pending"},
		{name: "accept without csrf", method: "POST", path: "/api/candidates/" + idA + "/accept", body: `{}`, auth: "session-no-csrf", wantStatus: 403, wantCode: "forbidden", wantStatus2: "pending"},
		{name: "undo without csrf", method: "POST", path: "/api/undo", body: `{}`, auth: "session-no-csrf", wantStatus: 403, wantCode: "forbidden"},
		{name: "cross-site origin", method: "POST", path: "/api/candidates/" + idA + "/accept", body: `{}`, auth: "session",
			hdr: map[string]string{"Origin": "https://evil.example"}, wantStatus: 403, wantCode: "forbidden", wantStatus2: "pending"},
		{name: "cross-site fetch", method: "POST", path: "/api/candidates/" + idA + "/accept", body: `{}`, auth: "bearer",
			hdr: map[string]string{"Sec-Fetch-Site": "cross-site"}, wantStatus: 403, wantCode: "forbidden", wantStatus2: "pending"},

		{name: "GET on a decision", method: "GET", path: "/api/candidates/" + idA + "/accept", auth: "bearer", wantStatus: 405},
		{name: "GET on undo", method: "GET", path: "/api/undo", auth: "bearer", wantStatus: 405},
		{name: "DELETE a candidate", method: "DELETE", path: "/api/candidates/" + idA, auth: "bearer", wantStatus: 405},
		{name: "PUT candidates", method: "PUT", path: "/api/candidates", auth: "bearer", wantStatus: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newAPI(t)
			hdr := map[string]string{"Content-Type": "application/json"}
			switch tt.auth {
			case "bearer":
				hdr = bearer
			case "wrong-token":
				hdr["Authorization"] = "Bearer nope"
			case "session", "session-no-csrf":
				cookie, csrf := e.login(t)
				hdr["Cookie"] = cookie
				if tt.auth == "session" {
					hdr["X-CSRF-Token"] = csrf
				}
			}
			for k, v := range tt.hdr {
				hdr[k] = v
			}
			status, body, h := e.do(t, tt.method, tt.path, tt.body, hdr)
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", status, tt.wantStatus, body)
			}
			if h.Get("Content-Security-Policy") != csp || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("security headers missing: %v", h)
			}
			if tt.wantCode != "" {
				var eb errorBody
				if err := json.Unmarshal([]byte(body), &eb); err != nil || eb.Code != tt.wantCode {
					t.Errorf("error body %s, want code %s", body, tt.wantCode)
				}
			}
			if strings.Contains(body, testToken) {
				t.Errorf("response leaks the token: %s", body)
			}
			if tt.wantStatus2 != "" {
				if c := mustGet(t, e.st, idA); c.Status != tt.wantStatus2 {
					t.Errorf("candidate status %s, want %s", c.Status, tt.wantStatus2)
				}
			}
			if tt.wantStatus != 200 && tt.method == "POST" {
				if ds, _ := e.st.Decisions(""); len(ds) != 0 {
					t.Errorf("a refused request logged decisions: %+v", ds)
				}
			}
		})
	}
}

func TestAPIReadAndUndo(t *testing.T) {
	e := newAPI(t)
	bearer := map[string]string{"Authorization": "Bearer " + testToken}
	status, body, _ := e.do(t, "GET", "/api/candidates?status=pending", "", bearer)
	var cands []model.Candidate
	if status != 200 || json.Unmarshal([]byte(body), &cands) != nil || len(cands) != 2 || cands[0].ID != idA {
		t.Fatalf("list: %d %s", status, body)
	}
	if status, body, _ = e.do(t, "POST", "/api/candidates/"+idA+"/reject", `{"version":1,"who":"erin","reason":"dup story"}`, bearer); status != 200 {
		t.Fatalf("reject: %d %s", status, body)
	}
	if status, body, _ = e.do(t, "POST", "/api/undo", `{"who":"erin"}`, bearer); status != 200 {
		t.Fatalf("undo: %d %s", status, body)
	}
	status, body, _ = e.do(t, "GET", "/api/decisions?candidate="+idA, "", bearer)
	var ds []model.Decision
	if status != 200 || json.Unmarshal([]byte(body), &ds) != nil || len(ds) != 2 {
		t.Fatalf("decisions: %d %s", status, body)
	}
	if ds[0].Action != "reject" || !ds[0].Undone || ds[0].Who != "erin" || ds[0].Reason != "dup story" || ds[1].Action != "undo" {
		t.Errorf("decisions = %+v", ds)
	}
	if c := mustGet(t, e.st, idA); c.Status != model.StatusPending {
		t.Errorf("status after undo %s", c.Status)
	}
}

func TestLoginAndPage(t *testing.T) {
	e := newAPI(t)
	hostile := `<img src=x onerror=alert(1)>`
	c := cand("2025-03-03--hostile", hostile, 9)
	c.Sources[0].Title = hostile
	c.Sources[0].URL = "javascript:alert(1)"
	seed(t, e.st, c)

	status, page, _ := e.do(t, "GET", "/", "", nil)
	if status != 200 || !strings.Contains(page, `name="token"`) || strings.Contains(page, "csrf-token") {
		t.Fatalf("anonymous page: %d\n%s", status, page)
	}
	status, page, h := e.do(t, "POST", "/login", "token=wrong", map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if status != 401 || h.Get("Set-Cookie") != "" || !strings.Contains(page, "not right") {
		t.Errorf("wrong token login: %d cookie %q", status, h.Get("Set-Cookie"))
	}
	status, _, _ = e.do(t, "POST", "/login", "token="+testToken, map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"})
	if status != 403 {
		t.Errorf("cross-site login: %d, want 403", status)
	}
	cookie, _ := e.login(t)
	_, page, _ = e.do(t, "GET", "/", "", map[string]string{"Cookie": cookie})
	if strings.Contains(page, hostile) || !strings.Contains(page, "&lt;img src=x onerror=alert(1)&gt;") {
		t.Errorf("hostile title not escaped in page")
	}
	if strings.Contains(page, "javascript:") || strings.Contains(page, testToken) || strings.Contains(page, "<script>") {
		t.Errorf("page holds a javascript: URL, the token or inline script")
	}
	if !strings.Contains(page, "<mark>Amazon</mark>") || !strings.Contains(page, "tier 1") || !strings.Contains(page, "suggested importance") {
		t.Errorf("page lacks highlight, tier badge or importance")
	}
	// The first card is the best score (the hostile one, 9), then idA.
	if i, j := strings.Index(page, `data-id="2025-03-03--hostile"`), strings.Index(page, `data-id="`+idA+`"`); i < 0 || j < i {
		t.Errorf("cards not by score: %d %d", i, j)
	}
	status, js, h := e.do(t, "GET", "/static/app.js", "", nil)
	if status != 200 || !strings.Contains(h.Get("Content-Type"), "javascript") || !strings.Contains(js, "X-CSRF-Token") {
		t.Errorf("app.js: %d %s", status, h.Get("Content-Type"))
	}
}

func TestSessionExpires(t *testing.T) {
	st := openStore(t)
	now := testNow
	s, err := NewServer(newQueue(st), Options{Token: testToken, SessionTTL: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := s.newSession("x")
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: sessionCookie, Value: id})
	if _, _, ok := s.sessionOf(r); !ok {
		t.Fatal("fresh session not found")
	}
	now = now.Add(time.Hour)
	if _, _, ok := s.sessionOf(r); ok {
		t.Fatal("session alive after its ttl")
	}
}

func TestServeRefusesTCPWithoutToken(t *testing.T) {
	st := openStore(t)
	s, err := NewServer(newQueue(st), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(context.Background(), ln); !errors.Is(err, ErrNoToken) {
		t.Fatalf("Serve = %v, want ErrNoToken", err)
	}
}

func TestUnixSocketAndClient(t *testing.T) {
	st := openStore(t)
	seed(t, st, cand(idA, "Amazon wins ICE contract", 5), cand(idB, "ICE expands AWS use", 4))
	s, err := NewServer(newQueue(st), Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "tw-sock") // short path: unix sockets allow ~100 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "review.sock")
	ln, err := ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, %v; want 0600", fi.Mode(), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("socket left behind: %v", err)
		}
	})

	c := NewSocketClient(path)
	tests := []struct {
		name    string
		req     Request
		wantErr error
	}{
		{"accept", Request{Action: "accept", ID: idA, Version: 1, Who: "cli", Edit: Edit{Importance: 7}}, nil},
		{"stale", Request{Action: "reject", ID: idB, Version: 5, Who: "cli"}, storage.ErrStale},
		{"unknown", Request{Action: "reject", ID: "2025-01-01--nope", Who: "cli"}, storage.ErrNotFound},
		{"decided already", Request{Action: "reject", ID: idA, Who: "cli"}, ErrConflict},
		{"bad date", Request{Action: "edit", ID: idB, Who: "cli", Edit: Edit{Date: "03/01/2025"}}, ErrInvalid},
		{"snooze", Request{Action: "snooze", ID: idB, Version: 1, Who: "cli", Until: testNow.Add(time.Hour)}, nil},
		{"undo", Request{Action: "undo", Who: "cli"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Do(ctx, tt.req)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Do = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if got := mustGet(t, st, idA); got.Status != model.StatusAccepted || got.Importance != 7 {
		t.Errorf("idA = %s importance %d", got.Status, got.Importance)
	}
	if got, err := c.Candidate(ctx, idB); err != nil || got.Status != model.StatusPending {
		t.Errorf("idB after undoing its snooze: %+v, %v", got.Status, err)
	}
	if list, err := c.Candidates(ctx, "accepted"); err != nil || len(list) != 1 {
		t.Errorf("accepted list = %d, %v", len(list), err)
	}
}
