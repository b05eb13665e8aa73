package metrics

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func scrape(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestSeries(t *testing.T) {
	at := time.Unix(1_700_000_000, 0)
	m := New(Options{
		Candidates: func() (map[string]int, error) { return map[string]int{"pending": 4, "accepted": 2}, nil },
		Outbox:     func() (int, int, error) { return 7, 1, nil },
	}, quiet())
	m.ObserveFetch("wire", ResultOK, 300*time.Millisecond, at)
	m.ObserveFetch("wire", ResultOK, 2*time.Second, at.Add(time.Hour))
	m.ObserveFetch("wire", "transient", time.Second, at.Add(2*time.Hour))
	m.ObserveFetch("blog", "parse", 50*time.Millisecond, at)
	m.ObserveIngest("wire", 10, 3, map[string]int{"ice-contracts": 2, "aws-gov": 1, "zero": 0})
	m.ObserveIngest("wire", 10, 0, nil)
	m.ObserveIngest("bad", 1, 5, nil) // impossible: ignored
	m.SetLastSuccess("never", time.Time{})

	code, body := scrape(t, m.Mux(), "/metrics")
	if code != 200 {
		t.Fatalf("status %d\n%s", code, body)
	}
	tests := []struct {
		name, line string
	}{
		{"fetch ok", `tierwatch_fetches_total{result="ok",source="wire"} 2`},
		{"fetch failed", `tierwatch_fetches_total{result="transient",source="wire"} 1`},
		{"fetch other source", `tierwatch_fetches_total{result="parse",source="blog"} 1`},
		{"histogram count", `tierwatch_fetch_duration_seconds_count{result="ok"} 2`},
		{"histogram bucket", `tierwatch_fetch_duration_seconds_bucket{result="ok",le="0.5"} 1`},
		{"items new", `tierwatch_items_total{source="wire",state="new"} 3`},
		{"items seen", `tierwatch_items_total{source="wire",state="seen"} 17`},
		{"matches", `tierwatch_matches_total{rule="ice-contracts"} 2`},
		{"last success is the later success", `tierwatch_source_last_success_timestamp_seconds{source="wire"} 1.7000036e+09`},
		{"candidates", `tierwatch_candidates{status="pending"} 4`},
		{"candidates accepted", `tierwatch_candidates{status="accepted"} 2`},
		{"outbox depth", `tierwatch_outbox_pending 7`},
		{"dead letters", `tierwatch_outbox_dead 1`},
		{"store read ok", `tierwatch_store_read_ok 1`},
		{"go runtime", `go_goroutines `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(body, "\n"+tt.line) {
				t.Errorf("scrape lacks %q", tt.line)
			}
		})
	}
	for _, absent := range []string{`rule="zero"`, `source="bad"`, `source="never"`} {
		if strings.Contains(body, absent) {
			t.Errorf("scrape has %s, want none", absent)
		}
	}
}

func TestStoreFiguresCached(t *testing.T) {
	now := time.Unix(0, 0)
	var reads atomic.Int32
	fail := false
	m := New(Options{
		Outbox: func() (int, int, error) {
			reads.Add(1)
			if fail {
				return 0, 0, errors.New("store closed")
			}
			return int(reads.Load()), 0, nil
		},
		MinInterval: 10 * time.Second,
		Now:         func() time.Time { return now },
	}, quiet())
	h := m.MetricsHandler()
	steps := []struct {
		name      string
		advance   time.Duration
		fail      bool
		wantReads int32
		wantLine  string
	}{
		{"first scrape reads", 0, false, 1, "tierwatch_outbox_pending 1"},
		{"within interval reuses", 5 * time.Second, false, 1, "tierwatch_outbox_pending 1"},
		{"after interval reads again", 5 * time.Second, false, 2, "tierwatch_outbox_pending 2"},
		{"read error reported, series dropped", 10 * time.Second, true, 3, "tierwatch_store_read_ok 0"},
		{"recovers", 10 * time.Second, false, 4, "tierwatch_store_read_ok 1"},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		fail = s.fail
		code, body := scrape(t, h, "/")
		if code != 200 {
			t.Fatalf("%s: status %d", s.name, code)
		}
		if got := reads.Load(); got != s.wantReads {
			t.Errorf("%s: store read %d times, want %d", s.name, got, s.wantReads)
		}
		if !strings.Contains(body, s.wantLine) {
			t.Errorf("%s: scrape lacks %q", s.name, s.wantLine)
		}
		if s.fail && strings.Contains(body, "tierwatch_outbox_pending") {
			t.Errorf("%s: stale outbox figure served after a read error", s.name)
		}
	}
}

func TestHealthAndReady(t *testing.T) {
	var started atomic.Bool
	storeErr := errors.New("store closed")
	var storeBad atomic.Bool
	m := New(Options{}, quiet())
	mux := m.Mux(
		Check{"store", func(ctx context.Context) error {
			if storeBad.Load() {
				return storeErr
			}
			return nil
		}},
		Check{"scheduler", func(ctx context.Context) error {
			if !started.Load() {
				return errors.New("not started")
			}
			return nil
		}},
	)
	tests := []struct {
		name              string
		started, storeBad bool
		path              string
		wantCode          int
		wantBody          string
	}{
		{"live before start", false, false, "/healthz", 200, "ok\n"},
		{"not ready before start", false, false, "/readyz", 503, "scheduler: not started\n"},
		{"ready", true, false, "/readyz", 200, "ok\n"},
		{"store failing", true, true, "/readyz", 503, "store: store closed\n"},
		{"both failing", false, true, "/readyz", 503, "store: store closed\nscheduler: not started\n"},
		{"live while store failing", true, true, "/healthz", 200, "ok\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			started.Store(tt.started)
			storeBad.Store(tt.storeBad)
			code, body := scrape(t, mux, tt.path)
			if code != tt.wantCode || body != tt.wantBody {
				t.Errorf("got %d %q, want %d %q", code, body, tt.wantCode, tt.wantBody)
			}
		})
	}
}

func TestReadyCheckTimeout(t *testing.T) {
	// synctest's fake clock runs the 3s timeout without waiting for it.
	synctest.Test(t, func(t *testing.T) {
		h := ReadyHandler(Check{"slow", func(ctx context.Context) error {
			<-ctx.Done()
			return context.Cause(ctx)
		}})
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		if rec.Code != 503 || !strings.Contains(rec.Body.String(), "slow: check slow: took longer than 3s") {
			t.Errorf("got %d %q, want 503 naming the timeout", rec.Code, rec.Body.String())
		}
		if d := time.Since(start); d != checkTimeout {
			t.Errorf("check ended after %s, want %s", d, checkTimeout)
		}
	})
}

func TestTwoInstancesDoNotShare(t *testing.T) {
	a, b := New(Options{}, quiet()), New(Options{}, quiet())
	a.ObserveFetch("s", ResultOK, time.Second, time.Unix(1, 0))
	_, body := scrape(t, b.MetricsHandler(), "/")
	if strings.Contains(body, `source="s"`) {
		t.Error("a second Metrics sees the first one's series: a shared registry")
	}
}
