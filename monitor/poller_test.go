package monitor

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
)

// memState is an in-memory StateStore and Sink.
type memState struct {
	mu     sync.Mutex // guards states, items
	states map[string]model.SourceState
	items  map[string][]model.Item
}

func newMemState() *memState {
	return &memState{states: map[string]model.SourceState{}, items: map[string][]model.Item{}}
}

func (m *memState) SourceState(name string) (model.SourceState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.states[name]
	st.Name = name
	return st, nil
}

func (m *memState) Ingest(_ context.Context, src config.Source, st model.SourceState, items []model.Item) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.states[src.Name] = st
	m.items[src.Name] = append(m.items[src.Name], items...)
	return len(items), nil
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

const okFeed = `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><title>One</title><link>https://x.example/1</link><guid>1</guid></item></channel></rss>`

func TestPollBacksOffAsTheErrorSays(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		wantClass model.ErrorClass
		// the next run must fall in [min, max] after now
		min, max time.Duration
	}{
		{
			name: "429 with Retry-After",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "3600")
				w.WriteHeader(http.StatusTooManyRequests)
			},
			wantClass: model.ClassRateLimited, min: time.Hour, max: time.Hour + time.Minute,
		},
		{
			name:      "500",
			handler:   func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) },
			wantClass: model.ClassHTTPStatus, min: 0, max: time.Minute,
		},
		{
			name: "redirect loop",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, r.URL.Path+"x", http.StatusFound)
			},
			wantClass: model.ClassHTTPStatus, min: 0, max: time.Minute,
		},
		{
			name: "body larger than the cap",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(strings.Repeat("x", 64<<10)))
			},
			wantClass: model.ClassTooLarge, min: 0, max: time.Minute,
		},
		{
			name: "body that never ends",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte("<rss>"))
				w.(http.Flusher).Flush()
				<-r.Context().Done()
			},
			wantClass: model.ClassTimeout, min: 0, max: time.Minute,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			mem := newMemState()
			f := NewFetcher(FetchOptions{Timeout: 500 * time.Millisecond, MaxBytes: 16 << 10, MaxRedirects: 3}, quietLog())
			p := NewPoller(f, mem, mem, nil, PollerOptions{BackoffBase: time.Minute, BackoffMax: 6 * time.Hour, Now: func() time.Time { return now }}, quietLog())
			src := config.Source{Name: "s", Type: model.SourceFeed, URL: srv.URL + "/feed"}

			start := time.Now()
			res, err := p.Poll(context.Background(), src, false)
			if err != nil {
				t.Fatalf("Poll: %v", err)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("poll took %s; bounded by a 500ms timeout", took)
			}
			if class, _ := ClassOf(res.Err); class != tt.wantClass {
				t.Fatalf("class %q (err %v), want %q", class, res.Err, tt.wantClass)
			}
			st, _ := mem.SourceState("s")
			if st.ConsecutiveErrors != 1 || st.LastErrorClass != tt.wantClass || st.FailingSince != now {
				t.Errorf("state %+v: want 1 error of class %s failing since now", st, tt.wantClass)
			}
			if d := st.NextRun.Sub(now); d < tt.min || d > tt.max {
				t.Errorf("next run in %s, want [%s, %s]", d, tt.min, tt.max)
			}
			if strings.Contains(st.LastError, "\n") {
				t.Errorf("last error spans lines: %q", st.LastError)
			}

			// A scheduled poll before the next run is skipped; a forced one is not.
			res, _ = p.Poll(context.Background(), src, false)
			if !res.Skipped {
				t.Error("poll during backoff was not skipped")
			}
		})
	}
}

func TestPollBackoffGrowsAndSuccessResets(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, okFeed)
	}))
	defer srv.Close()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	mem := newMemState()
	f := NewFetcher(FetchOptions{Timeout: time.Second}, quietLog())
	p := NewPoller(f, mem, mem, nil, PollerOptions{BackoffBase: time.Minute, BackoffMax: time.Hour, Now: func() time.Time { return now }}, quietLog())
	src := config.Source{Name: "s", Type: model.SourceFeed, URL: srv.URL}

	var last time.Duration
	for i := 1; i <= 10; i++ {
		if _, err := p.Poll(context.Background(), src, true); err != nil {
			t.Fatal(err)
		}
		st, _ := mem.SourceState("s")
		d := st.NextRun.Sub(now)
		if st.ConsecutiveErrors != i {
			t.Fatalf("attempt %d: %d consecutive errors", i, st.ConsecutiveErrors)
		}
		if d > time.Hour {
			t.Errorf("attempt %d: backoff %s above the 1h cap", i, d)
		}
		if i >= 8 && d < 30*time.Minute {
			t.Errorf("attempt %d: backoff %s did not grow towards the cap", i, d)
		}
		last = d
	}
	t.Logf("backoff after 10 errors: %s", last)

	fail.Store(false)
	res, err := p.Poll(context.Background(), src, true)
	if err != nil || res.Err != nil {
		t.Fatalf("poll after recovery: %v %v", err, res.Err)
	}
	st, _ := mem.SourceState("s")
	if st.ConsecutiveErrors != 0 || !st.NextRun.IsZero() || st.LastError != "" || st.LastSuccess != now {
		t.Errorf("success did not reset the state: %+v", st)
	}
}

func TestPollSpacesRequestsToOneHost(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, okFeed) }))
	defer srv.Close()
	mem := newMemState()
	var mu sync.Mutex // guards waits
	var waits []time.Duration
	p := NewPoller(NewFetcher(FetchOptions{}, quietLog()), mem, mem, nil, PollerOptions{
		HostGap: 2 * time.Second,
		Now:     func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) },
		Wait: func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			waits = append(waits, d)
			mu.Unlock()
			return nil
		},
	}, quietLog())
	var srcs []config.Source
	for i := range 3 {
		srcs = append(srcs, config.Source{Name: fmt.Sprint("s", i), Type: model.SourceFeed, URL: srv.URL + fmt.Sprint("/", i)})
	}
	if _, err := RunOnce(context.Background(), p, srcs); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	got := map[time.Duration]bool{}
	for _, w := range waits {
		got[w] = true
	}
	for _, want := range []time.Duration{0, 2 * time.Second, 4 * time.Second} {
		if !got[want] {
			t.Errorf("waits %v lack %s: three requests to one host must queue one gap apart", waits, want)
		}
	}
}

func TestSchedulerJobSurvivesPanicsAndSkipsOverlaps(t *testing.T) {
	mem := newMemState()
	var calls atomic.Int32
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	adapter := AdapterFunc(func(ctx context.Context, f *Fetcher, src config.Source, st *model.SourceState, now time.Time) ([]model.Item, error) {
		n := calls.Add(1)
		switch n {
		case 1:
			panic("adapter bug")
		case 2:
			entered <- struct{}{}
			<-release
		}
		return nil, nil
	})
	p := NewPoller(NewFetcher(FetchOptions{}, quietLog()), mem, mem, map[string]Adapter{"test": adapter}, PollerOptions{}, quietLog())
	s := NewScheduler(p, 0, quietLog())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	src := config.Source{Name: "s", Type: "test", URL: "https://x.example/", Schedule: "@every 1h"}
	sched, err := config.ParseSchedule(src.Schedule)
	if err != nil {
		t.Fatal(err)
	}
	id := s.cron.Schedule(sched, s.job(src))
	job := s.cron.Entry(id).WrappedJob

	job.Run() // panics inside; Recover must catch it and release the skip lock
	done := make(chan struct{})
	go func() { job.Run(); close(done) }()
	<-entered
	job.Run() // overlaps the running second call: skipped at once
	close(release)
	<-done
	if got := calls.Load(); got != 2 {
		t.Errorf("adapter ran %d times, want 2 (panic, then one run; the overlapping tick skipped)", got)
	}
}

func TestHostWaitDoesNotHoldASlot(t *testing.T) {
	other := make(chan struct{}, 1)
	hostA := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, okFeed) }))
	defer hostA.Close()
	hostB := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, okFeed)
		select {
		case other <- struct{}{}:
		default:
		}
	}))
	defer hostB.Close()
	mem := newMemState()
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := NewPoller(NewFetcher(FetchOptions{}, quietLog()), mem, mem, nil, PollerOptions{
		Concurrency: 1,
		HostGap:     time.Hour,
		Now:         clock.Now,
		// The second poll of host A waits for its gap; with one slot, a
		// poll of host B must still run meanwhile.
		Wait: func(ctx context.Context, d time.Duration) error {
			if d <= 0 {
				return nil
			}
			select {
			case <-other:
				clock.advance(d)
				return nil
			case <-time.After(10 * time.Second):
				return fmt.Errorf("host B was not polled while host A waited for its gap")
			}
		},
	}, quietLog())
	srcs := []config.Source{
		{Name: "a1", Type: model.SourceFeed, URL: hostA.URL + "/1"},
		{Name: "a2", Type: model.SourceFeed, URL: hostA.URL + "/2"},
		{Name: "b1", Type: model.SourceFeed, URL: hostB.URL + "/1"},
	}
	if _, err := RunOnce(context.Background(), p, srcs); err != nil {
		t.Fatal(err)
	}
}

// fakeClock is a clock that only waits move.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestHostGapHoldsAfterQueueingForASlot: two polls of one host wait their
// turns one gap apart, then both queue behind a poll of another host that
// holds the only slot. When it frees, they must still start a gap apart,
// not back to back.
func TestHostGapHoldsAfterQueueingForASlot(t *testing.T) {
	const gap = 5 * time.Minute
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	release := make(chan struct{})
	holding := make(chan struct{})
	var mu sync.Mutex // guards starts
	starts := map[string]time.Time{}
	adapter := AdapterFunc(func(ctx context.Context, f *Fetcher, src config.Source, st *model.SourceState, now time.Time) ([]model.Item, error) {
		if src.Name == "b" {
			close(holding)
			<-release
			return nil, nil
		}
		mu.Lock()
		starts[src.Name] = clock.Now()
		mu.Unlock()
		return nil, nil
	})
	waits := make(chan time.Duration, 16) // every wait, in order
	mem := newMemState()
	p := NewPoller(NewFetcher(FetchOptions{}, quietLog()), mem, mem, map[string]Adapter{"test": adapter}, PollerOptions{
		Concurrency: 1,
		HostGap:     gap,
		Now:         clock.Now,
		Wait: func(ctx context.Context, d time.Duration) error {
			clock.advance(max(d, 0))
			waits <- d
			return nil
		},
	}, quietLog())
	var all sync.WaitGroup
	poll := func(name, url string) {
		all.Add(1)
		go func() {
			defer all.Done()
			if _, err := p.Poll(t.Context(), config.Source{Name: name, Type: "test", URL: url}, true); err != nil {
				t.Error(err)
			}
		}()
	}
	poll("b", "https://b.example/")
	<-holding // b holds the only slot, past all of its waits
	for len(waits) > 0 {
		<-waits
	}
	poll("a1", "https://a.example/1")
	poll("a2", "https://a.example/2")
	// Both polls of host A book and wait their turns (0 and one gap)
	// before they queue for the slot.
	<-waits
	<-waits
	close(release)
	all.Wait()
	d := starts["a2"].Sub(starts["a1"])
	if d < 0 {
		d = -d
	}
	if d < gap {
		t.Errorf("the two polls of host A started %s apart, want at least %s", d, gap)
	}
}
