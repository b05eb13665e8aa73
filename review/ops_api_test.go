package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/storage"
)

// fakeOutbox is an in-memory OutboxAdmin keeping OutboxAdmin's error
// contract (storage.ErrNotFound, ErrConflict); the store-backed one is
// tested in cmd/tierwatch over a real bbolt file.
type fakeOutbox struct {
	mu   sync.Mutex // guards recs
	recs map[string]model.OutboxRecord
}

func newFakeOutbox() *fakeOutbox {
	return &fakeOutbox{recs: map[string]model.OutboxRecord{
		"ob_1": {ID: "ob_1", Dest: "slack", Seq: 1, State: model.OutboxDead, Attempts: 8, LastError: "http 500"},
		"ob_2": {ID: "ob_2", Dest: "slack", Seq: 2, State: model.OutboxPending},
		"ob_3": {ID: "ob_3", Dest: "hook", Seq: 1, State: model.OutboxDead, Attempts: 8},
	}}
}

func (f *fakeOutbox) Outbox(_ context.Context, state string) ([]model.OutboxRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []model.OutboxRecord
	for _, r := range f.recs {
		if state == "" || r.State == state {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b model.OutboxRecord) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func (f *fakeOutbox) RetryOutbox(_ context.Context, id string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for rid, r := range f.recs {
		if id != "" && rid != id {
			continue
		}
		if r.State != model.OutboxDead {
			if id == "" {
				continue
			}
			return 0, fmt.Errorf("retry outbox record %s: it is %s: %w", id, r.State, ErrConflict)
		}
		r.State, r.Attempts = model.OutboxPending, 0
		f.recs[rid] = r
		n++
	}
	if id != "" && n == 0 {
		return 0, fmt.Errorf("retry outbox record %s: %w", id, storage.ErrNotFound)
	}
	return n, nil
}

func (f *fakeOutbox) DropOutbox(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.recs[id]; !ok {
		return fmt.Errorf("drop outbox record %s: %w", id, storage.ErrNotFound)
	}
	delete(f.recs, id)
	return nil
}

// fakeReplay records the since of each replay. When block is set, a
// replay signals started and waits for release.
type fakeReplay struct {
	mu      sync.Mutex // guards got
	got     []time.Time
	block   bool
	started chan struct{}
	release chan struct{}
}

func (f *fakeReplay) Replay(ctx context.Context, since time.Time) (ReplayStats, error) {
	f.mu.Lock()
	f.got = append(f.got, since)
	f.mu.Unlock()
	if f.block {
		f.started <- struct{}{}
		select {
		case <-f.release:
		case <-ctx.Done():
			return ReplayStats{}, ctx.Err()
		}
	}
	return ReplayStats{Items: 7, Matched: 3, Created: 2, Joined: 1}, nil
}

type fakeSources []SourceRow

func (f fakeSources) Sources(context.Context) ([]SourceRow, error) { return f, nil }

var testRows = fakeSources{
	{Name: "reuters", Type: "feed", Schedule: "@every 15m", NextRun: testNow.Add(10 * time.Minute),
		State: model.SourceState{Name: "reuters", ItemsSeen: 12, LastSuccess: testNow.Add(-5 * time.Minute)}},
	{Name: "sam", Type: "sam_opportunities", Schedule: "@every 1h", Disabled: true, BudgetLeft: new(int)},
}

type opsEnv struct {
	*apiEnv
	outbox *fakeOutbox
	replay *fakeReplay
}

// newOpsAPI serves the operator endpoints over fakes, and export over a
// real Queue whose store holds two accepted candidates.
func newOpsAPI(t *testing.T) *opsEnv {
	t.Helper()
	q, _ := exportFixture(t)
	e := &opsEnv{outbox: newFakeOutbox(), replay: &fakeReplay{}}
	s, err := NewServer(q, Options{Token: testToken, Now: func() time.Time { return testNow },
		Sources: testRows, Outbox: e.outbox, Replay: e.replay})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler(false))
	t.Cleanup(srv.Close)
	e.apiEnv = &apiEnv{st: q.store, srv: srv, s: s}
	return e
}

func TestOpsAPI(t *testing.T) {
	exportDir := t.TempDir()
	tests := []struct {
		name         string
		method, path string
		auth         string // "bearer", "none", "wrong-token", "session", "session-no-csrf"
		wantStatus   int
		wantCode     string
		wantBody     string // a substring of the 200 body
		wantOutbox   []string
	}{
		{name: "sources", method: "GET", path: "/api/sources", auth: "bearer", wantStatus: 200, wantBody: `"next_run":"2025-03-10T12:10:00Z"`},
		{name: "sources by session", method: "GET", path: "/api/sources", auth: "session-no-csrf", wantStatus: 200, wantBody: `"budget_left":0`},
		{name: "sources without token", method: "GET", path: "/api/sources", auth: "none", wantStatus: 401, wantCode: "unauthorized"},
		{name: "sources wrong token", method: "GET", path: "/api/sources", auth: "wrong-token", wantStatus: 401, wantCode: "unauthorized"},
		{name: "POST sources", method: "POST", path: "/api/sources", auth: "bearer", wantStatus: 405},

		{name: "outbox dead", method: "GET", path: "/api/outbox?state=dead", auth: "bearer", wantStatus: 200, wantBody: `"id":"ob_3"`},
		{name: "outbox without token", method: "GET", path: "/api/outbox", auth: "none", wantStatus: 401, wantCode: "unauthorized"},
		{name: "DELETE outbox", method: "DELETE", path: "/api/outbox", auth: "bearer", wantStatus: 405},
		{name: "retry one", method: "POST", path: "/api/outbox/ob_1/retry", auth: "bearer", wantStatus: 200, wantBody: `{"requeued":1}`,
			wantOutbox: []string{"ob_1 pending", "ob_2 pending", "ob_3 dead"}},
		{name: "retry every dead", method: "POST", path: "/api/outbox/retry-dead", auth: "bearer", wantStatus: 200, wantBody: `{"requeued":2}`,
			wantOutbox: []string{"ob_1 pending", "ob_2 pending", "ob_3 pending"}},
		{name: "retry unknown id", method: "POST", path: "/api/outbox/ob_9/retry", auth: "bearer", wantStatus: 404, wantCode: "not_found"},
		{name: "retry pending record", method: "POST", path: "/api/outbox/ob_2/retry", auth: "bearer", wantStatus: 409, wantCode: "conflict"},
		{name: "GET retry", method: "GET", path: "/api/outbox/ob_1/retry", auth: "bearer", wantStatus: 405},
		{name: "retry without token", method: "POST", path: "/api/outbox/ob_1/retry", auth: "none", wantStatus: 401, wantCode: "unauthorized",
			wantOutbox: []string{"ob_1 dead", "ob_2 pending", "ob_3 dead"}},
		{name: "drop", method: "POST", path: "/api/outbox/ob_2/drop", auth: "bearer", wantStatus: 200, wantBody: `{"dropped":"ob_2"}`,
			wantOutbox: []string{"ob_1 dead", "ob_3 dead"}},
		{name: "drop by session", method: "POST", path: "/api/outbox/ob_2/drop", auth: "session", wantStatus: 200,
			wantOutbox: []string{"ob_1 dead", "ob_3 dead"}},
		{name: "drop without csrf", method: "POST", path: "/api/outbox/ob_2/drop", auth: "session-no-csrf", wantStatus: 403, wantCode: "forbidden",
			wantOutbox: []string{"ob_1 dead", "ob_2 pending", "ob_3 dead"}},
		{name: "drop unknown id", method: "POST", path: "/api/outbox/ob_9/drop", auth: "bearer", wantStatus: 404, wantCode: "not_found"},
		{name: "GET drop", method: "GET", path: "/api/outbox/ob_2/drop", auth: "bearer", wantStatus: 405},

		{name: "replay since", method: "POST", path: "/api/replay?since=2025-03-01", auth: "bearer", wantStatus: 200,
			wantBody: `{"items":7,"matched":3,"created":2,"joined":1}`},
		{name: "replay bad date", method: "POST", path: "/api/replay?since=March", auth: "bearer", wantStatus: 400, wantCode: "invalid"},
		{name: "GET replay", method: "GET", path: "/api/replay", auth: "bearer", wantStatus: 405},
		{name: "replay without token", method: "POST", path: "/api/replay", auth: "none", wantStatus: 401, wantCode: "unauthorized"},

		{name: "export", method: "POST", path: "/api/export?dir=" + exportDir, auth: "bearer", wantStatus: 200,
			wantBody: `"file":"2018-06-15--amazon-pitches-rekognition-to-ice.md"`},
		{name: "export relative dir", method: "POST", path: "/api/export?dir=timeline", auth: "bearer", wantStatus: 400, wantCode: "invalid"},
		{name: "export without dir", method: "POST", path: "/api/export", auth: "bearer", wantStatus: 400, wantCode: "invalid"},
		{name: "GET export", method: "GET", path: "/api/export?dir=" + exportDir, auth: "bearer", wantStatus: 405},
		{name: "export without token", method: "POST", path: "/api/export?dir=" + exportDir, auth: "none", wantStatus: 401, wantCode: "unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newOpsAPI(t)
			hdr := map[string]string{}
			switch tt.auth {
			case "bearer":
				hdr["Authorization"] = "Bearer " + testToken
			case "wrong-token":
				hdr["Authorization"] = "Bearer nope"
			case "session", "session-no-csrf":
				cookie, csrf := e.login(t)
				hdr["Cookie"] = cookie
				if tt.auth == "session" {
					hdr["X-CSRF-Token"] = csrf
				}
			}
			status, body, _ := e.do(t, tt.method, tt.path, "", hdr)
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", status, tt.wantStatus, body)
			}
			if tt.wantCode != "" {
				var eb errorBody
				if err := json.Unmarshal([]byte(body), &eb); err != nil || eb.Code != tt.wantCode {
					t.Errorf("error body %s, want code %s", body, tt.wantCode)
				}
			}
			if !strings.Contains(body, tt.wantBody) {
				t.Errorf("body %s lacks %s", body, tt.wantBody)
			}
			if tt.wantOutbox != nil {
				recs, _ := e.outbox.Outbox(context.Background(), "")
				var got []string
				for _, r := range recs {
					got = append(got, r.ID+" "+r.State)
				}
				if !slices.Equal(got, tt.wantOutbox) {
					t.Errorf("outbox %v, want %v", got, tt.wantOutbox)
				}
			}
		})
	}
}

func TestOpsAPIReplayOneAtATime(t *testing.T) {
	e := newOpsAPI(t)
	e.replay.block = true
	e.replay.started = make(chan struct{})
	e.replay.release = make(chan struct{})
	bearer := map[string]string{"Authorization": "Bearer " + testToken}
	first := make(chan int)
	go func() {
		status, _, _ := e.do(t, "POST", "/api/replay", "", bearer)
		first <- status
	}()
	<-e.replay.started
	status, body, _ := e.do(t, "POST", "/api/replay", "", bearer)
	if status != http.StatusConflict || !strings.Contains(body, `"code":"conflict"`) {
		t.Errorf("second replay while one runs: status %d body %s, want 409 conflict", status, body)
	}
	close(e.replay.release)
	if got := <-first; got != http.StatusOK {
		t.Errorf("first replay status %d, want 200", got)
	}
	if len(e.replay.got) != 1 || !e.replay.got[0].IsZero() {
		t.Errorf("replays run %v, want one over every item", e.replay.got)
	}
}

func TestOpsAPINotServed(t *testing.T) {
	e := newAPI(t) // a server given no operator implementations
	for _, tc := range []struct{ name, method, path string }{
		{"sources", "GET", "/api/sources"},
		{"outbox", "GET", "/api/outbox"},
		{"retry", "POST", "/api/outbox/x/retry"},
		{"drop", "POST", "/api/outbox/x/drop"},
		{"replay", "POST", "/api/replay"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, _ := e.do(t, tc.method, tc.path, "", map[string]string{"Authorization": "Bearer " + testToken})
			if status != http.StatusNotImplemented || !strings.Contains(body, `"code":"unavailable"`) {
				t.Errorf("status %d body %s, want 501 unavailable", status, body)
			}
		})
	}
}

// TestOpsClient runs every operator call of the Client against the server
// over a unix socket, as the CLI does while the daemon runs.
func TestOpsClient(t *testing.T) {
	e := newOpsAPI(t)
	sockDir, err := os.MkdirTemp("", "tw-ops") // unix socket paths are short
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	ln, err := ListenUnix(filepath.Join(sockDir, "s"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	c := NewSocketClient(filepath.Join(sockDir, "s"))

	rows, err := c.Sources(ctx)
	if err != nil || len(rows) != 2 || rows[0].Name != "reuters" || !rows[0].NextRun.Equal(testRows[0].NextRun) ||
		rows[0].State.ItemsSeen != 12 || rows[1].BudgetLeft == nil || !rows[1].Disabled {
		t.Errorf("Sources = %+v, %v; want the two rows as served", rows, err)
	}
	dead, err := c.Outbox(ctx, model.OutboxDead)
	if err != nil || len(dead) != 2 || dead[0].LastError != "http 500" {
		t.Errorf("Outbox(dead) = %+v, %v; want ob_1 and ob_3", dead, err)
	}
	if _, err := c.RetryOutbox(ctx, "ob_2"); !errors.Is(err, ErrConflict) {
		t.Errorf("retry a pending record: %v, want ErrConflict", err)
	}
	if n, err := c.RetryOutbox(ctx, ""); n != 2 || err != nil {
		t.Errorf("retry every dead = %d, %v; want 2", n, err)
	}
	if err := c.DropOutbox(ctx, "ob_9"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("drop unknown: %v, want ErrNotFound", err)
	}
	if err := c.DropOutbox(ctx, "ob_1"); err != nil {
		t.Errorf("drop ob_1: %v", err)
	}
	since := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	if st, err := c.Replay(ctx, since); err != nil || st != (ReplayStats{Items: 7, Matched: 3, Created: 2, Joined: 1}) {
		t.Errorf("Replay = %+v, %v", st, err)
	}
	if len(e.replay.got) != 1 || !e.replay.got[0].Equal(since) {
		t.Errorf("daemon replayed since %v, want %v", e.replay.got, since)
	}
	dir := t.TempDir()
	written, err := c.Export(ctx, dir)
	if err != nil || len(written) != 2 {
		t.Fatalf("Export = %+v, %v; want two files", written, err)
	}
	for _, w := range written {
		if _, err := os.Stat(filepath.Join(dir, w.File)); err != nil || w.ID+".md" != w.File || w.CandidateID == "" {
			t.Errorf("export reported %+v: %v", w, err)
		}
	}
	if again, err := c.Export(ctx, dir); err != nil || len(again) != 0 {
		t.Errorf("second Export = %+v, %v; want nothing new", again, err)
	}
	if _, err := c.Export(ctx, "relative"); !errors.Is(err, ErrInvalid) {
		t.Errorf("export to a relative dir: %v, want ErrInvalid", err)
	}

	// Over TCP a wrong token is refused with ErrUnauthorized.
	tcp := httptest.NewServer(e.s.Handler(false))
	defer tcp.Close()
	bad := NewClient(strings.TrimPrefix(tcp.URL, "http://"), "nope")
	if _, err := bad.Sources(ctx); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("wrong token: %v, want ErrUnauthorized", err)
	}
}
