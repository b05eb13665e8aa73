package record

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/monitor"
)

// pager serves n records in pages of size, failing as told.
type pager struct {
	n, size int
	calls   int
	windows []Window
	failAt  map[int]error // call number (1-based) -> error
}

func (p *pager) fetch(_ context.Context, w Window, cursor string) (Page, error) {
	p.calls++
	p.windows = append(p.windows, w)
	if err := p.failAt[p.calls]; err != nil {
		return Page{}, err
	}
	off := 0
	if cursor != "" {
		off, _ = strconv.Atoi(cursor)
	}
	var pg Page
	for i := off; i < min(off+p.size, p.n); i++ {
		pg.Items = append(pg.Items, model.Item{Key: "notice:" + strconv.Itoa(i)})
	}
	if off+p.size < p.n {
		pg.Next = strconv.Itoa(off + p.size)
	}
	return pg, nil
}

var t0 = time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)

func keys(items []model.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Key)
	}
	return out
}

func TestRunPagesToTheEndAndAdvances(t *testing.T) {
	src := config.Source{Name: "s", URL: "https://api.example/x"}
	st := &model.SourceState{Name: "s"}
	p := &pager{n: 7, size: 3}
	items, err := Run(context.Background(), src, st, t0, Options{}, p.fetch)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 7 || p.calls != 3 {
		t.Fatalf("got %d items in %d calls, want 7 in 3", len(items), p.calls)
	}
	cp := LoadCheckpoint(st.Checkpoint)
	if !cp.Done.Equal(t0) || cp.Pending != nil {
		t.Fatalf("checkpoint %+v, want done at %v", cp, t0)
	}
	if want := t0.Add(-config.DefaultLookback); !p.windows[0].From.Equal(want) {
		t.Errorf("first window from %v, want %v", p.windows[0].From, want)
	}
	// The next poll overlaps the last window by the overlap.
	later := t0.Add(6 * time.Hour)
	p2 := &pager{n: 1, size: 3}
	if _, err := Run(context.Background(), src, st, later, Options{}, p2.fetch); err != nil {
		t.Fatal(err)
	}
	if w := p2.windows[0]; !w.From.Equal(t0.Add(-config.DefaultOverlap)) || !w.To.Equal(later) {
		t.Errorf("second window %v..%v, want %v..%v", w.From, w.To, t0.Add(-config.DefaultOverlap), later)
	}
}

func TestRunMaxSpan(t *testing.T) {
	src := config.Source{Name: "s", URL: "https://x/", Query: &config.Query{Lookback: 400 * 24 * time.Hour}}
	st := &model.SourceState{}
	p := &pager{n: 1, size: 1}
	if _, err := Run(context.Background(), src, st, t0, Options{MaxSpan: 364 * 24 * time.Hour}, p.fetch); err != nil {
		t.Fatal(err)
	}
	w := p.windows[0]
	if got := w.To.Sub(w.From); got != 364*24*time.Hour {
		t.Errorf("span %v, want 364 days", got)
	}
	if cp := LoadCheckpoint(st.Checkpoint); !cp.Done.Equal(w.To) {
		t.Errorf("done %v, want window end %v", cp.Done, w.To)
	}
}

func TestRunQuota(t *testing.T) {
	rateLimited := &monitor.FetchError{Class: model.ClassRateLimited, Status: 429}
	tests := []struct {
		name       string
		budget     int
		failAt     map[int]error
		wantItems  int
		wantErr    bool
		wantPaused bool
	}{
		{"budget runs out mid-window", 2, nil, 6, false, true},
		{"429 mid-window", 0, map[int]error{3: rateLimited}, 6, false, true},
		{"429 on first page", 0, map[int]error{1: rateLimited}, 0, true, false},
		{"server error mid-window", 0, map[int]error{2: &monitor.FetchError{Class: model.ClassHTTPStatus, Status: 502}}, 0, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := config.Source{Name: "s", URL: "https://x/", DailyBudget: tt.budget}
			st := &model.SourceState{Name: "s"}
			p := &pager{n: 8, size: 3, failAt: tt.failAt}
			items, err := Run(context.Background(), src, st, t0, Options{DailyQuota: true}, p.fetch)
			if (err != nil) != tt.wantErr || len(items) != tt.wantItems {
				t.Fatalf("got %d items, err %v; want %d, err=%v", len(items), err, tt.wantItems, tt.wantErr)
			}
			cp := LoadCheckpoint(st.Checkpoint)
			if tt.wantErr {
				if st.Checkpoint != "" {
					t.Errorf("checkpoint changed on error: %s", st.Checkpoint)
				}
				if class, retry := monitor.ClassOf(err); class == model.ClassRateLimited && retry < monitor.UntilRenewal(t0) {
					t.Errorf("rate limit retry %v, want until midnight %v", retry, monitor.UntilRenewal(t0))
				}
				return
			}
			if !tt.wantPaused {
				return
			}
			if cp.Pending == nil || cp.Pending.Cursor != "6" || !cp.Done.IsZero() {
				t.Fatalf("checkpoint %+v, want pending at cursor 6", cp)
			}
			// Later the same day the source stays stopped without a request.
			calls := p.calls
			_, err = Run(context.Background(), src, st, t0.Add(time.Hour), Options{DailyQuota: true}, p.fetch)
			if class, retry := monitor.ClassOf(err); class != model.ClassRateLimited || retry != monitor.UntilRenewal(t0.Add(time.Hour)) {
				t.Fatalf("same day: err %v (class %s, retry %v), want rate_limited until midnight", err, class, retry)
			}
			if p.calls != calls {
				t.Errorf("paused source made %d requests", p.calls-calls)
			}
			// After renewal it resumes at the cursor and finishes the window.
			p.failAt = nil
			next := time.Date(2026, 3, 11, 0, 5, 0, 0, time.UTC)
			items, err = Run(context.Background(), src, st, next, Options{DailyQuota: true}, p.fetch)
			if err != nil {
				t.Fatal(err)
			}
			if got := keys(items); len(got) != 2 || got[0] != "notice:6" || got[1] != "notice:7" {
				t.Errorf("resumed items %v, want notice:6, notice:7", got)
			}
			if cp := LoadCheckpoint(st.Checkpoint); cp.Pending != nil || !cp.Done.Equal(t0) {
				t.Errorf("after resume checkpoint %+v, want done at the pending window's end %v", cp, t0)
			}
		})
	}
}

// TestRunRestartMidWindow simulates a crash after two pages: the state of
// the interrupted poll is never saved. The next poll re-reads the window;
// a store deduplicating by key ends with every record exactly once.
func TestRunRestartMidWindow(t *testing.T) {
	src := config.Source{Name: "s", URL: "https://x/"}
	saved := model.SourceState{Name: "s"}
	store := map[string]int{}
	ingest := func(items []model.Item) (fresh int) {
		for _, it := range items {
			if store[it.Key] == 0 {
				fresh++
			}
			store[it.Key]++
		}
		return fresh
	}
	// First poll completes a window.
	p := &pager{n: 4, size: 2}
	st := saved
	items, err := Run(context.Background(), src, &st, t0, Options{}, p.fetch)
	if err != nil {
		t.Fatal(err)
	}
	ingest(items)
	saved = st

	// Second poll: new records arrived; the process dies during page 2.
	ctx, cancel := context.WithCancel(context.Background())
	p = &pager{n: 7, size: 2}
	crash := func(c context.Context, w Window, cursor string) (Page, error) {
		if p.calls == 1 {
			cancel()
			return Page{}, &monitor.FetchError{Class: model.ClassNetwork, Err: context.Canceled}
		}
		return p.fetch(c, w, cursor)
	}
	st = saved
	if _, err := Run(ctx, src, &st, t0.Add(time.Hour), Options{}, crash); err == nil {
		t.Fatal("interrupted poll returned no error")
	}
	// (state of the interrupted poll is lost; saved is unchanged)

	// Restart.
	p = &pager{n: 7, size: 2}
	st = saved
	items, err = Run(context.Background(), src, &st, t0.Add(2*time.Hour), Options{}, p.fetch)
	if err != nil {
		t.Fatal(err)
	}
	if fresh := ingest(items); fresh != 3 {
		t.Errorf("restart yielded %d new records, want 3", fresh)
	}
	for i := 0; i < 7; i++ {
		if store["notice:"+strconv.Itoa(i)] == 0 {
			t.Errorf("record %d missed", i)
		}
	}
	if w := p.windows[0]; w.From.After(t0.Add(-config.DefaultOverlap)) {
		t.Errorf("restart window starts %v, after the last done minus overlap", w.From)
	}
}

func TestRunFileAndStuckPaging(t *testing.T) {
	src := config.Source{Name: "s", URL: "file:///tmp/x.json"}
	st := &model.SourceState{}
	p := &pager{n: 5, size: 2}
	items, err := Run(context.Background(), src, st, t0, Options{}, p.fetch)
	if err != nil || p.calls != 1 || len(items) != 2 || st.Checkpoint != "" {
		t.Errorf("file source: %d calls, %d items, err %v, checkpoint %q; want one read, no checkpoint", p.calls, len(items), err, st.Checkpoint)
	}

	stuck := func(context.Context, Window, string) (Page, error) { return Page{Next: "same"}, nil }
	src.URL = "https://x/"
	st = &model.SourceState{}
	if _, err := Run(context.Background(), src, st, t0, Options{}, stuck); err == nil {
		t.Error("paging that repeats its cursor was accepted")
	}
	loop := 0
	endless := func(context.Context, Window, string) (Page, error) {
		loop++
		return Page{Next: strconv.Itoa(loop)}, nil
	}
	_, err = Run(context.Background(), src, st, t0, Options{MaxPages: 5}, endless)
	if fe, ok := errors.AsType[*monitor.FetchError](err); !ok || fe.Class != model.ClassParse || loop != 5 {
		t.Errorf("endless paging: err %v after %d pages, want a parse error after 5", err, loop)
	}
}
