package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/tierwatch/tierwatch/config"
)

// Scheduler runs each source's polls on its own schedule. Jobs are wrapped
// so that a panic is recovered and logged, and a poll still running when
// its next tick comes is skipped rather than stacked. The order matters:
// SkipIfStillRunning must be outside Recover, or a panic would unwind past
// the skip wrapper without releasing it and stop that job for good.
type Scheduler struct {
	poller *Poller
	jitter time.Duration
	log    *slog.Logger
	// OnResult, if set, sees every poll's result (metrics, summaries).
	OnResult func(Result)

	mu      sync.Mutex // guards cron, entries and ctx
	cron    *cron.Cron
	entries map[string]scheduled // by source name
	ctx     context.Context
	wg      sync.WaitGroup // first polls started by Start
}

type scheduled struct {
	id  cron.EntryID
	src config.Source
}

// NewScheduler returns a stopped scheduler.
func NewScheduler(p *Poller, jitter time.Duration, log *slog.Logger) *Scheduler {
	cl := cronLogger{log}
	c := cron.New(
		cron.WithParser(config.ScheduleParser),
		cron.WithChain(cron.SkipIfStillRunning(cl), cron.Recover(cl)),
		cron.WithLogger(cl),
	)
	return &Scheduler{poller: p, jitter: jitter, log: log, cron: c, entries: map[string]scheduled{}}
}

// Start schedules sources and starts the clock. Sources never polled, or
// whose last attempt is older than one period, are polled right away
// (after jitter) instead of waiting for their first tick. Polls run under
// ctx; cancelling it aborts polls in flight.
func (s *Scheduler) Start(ctx context.Context, sources []config.Source) error {
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	if err := s.Set(sources); err != nil {
		return err
	}
	s.cron.Start()
	return nil
}

// Set replaces the scheduled sources: new ones are added (and polled soon
// if due), removed ones dropped, changed ones rescheduled. Stored state is
// untouched, so nothing is lost across a reload.
func (s *Scheduler) Set(sources []config.Source) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	want := map[string]config.Source{}
	for _, src := range sources {
		if !src.Disabled {
			want[src.Name] = src
		}
	}
	for name, e := range s.entries {
		if nw, ok := want[name]; !ok || !reflect.DeepEqual(nw, e.src) {
			s.cron.Remove(e.id)
			delete(s.entries, name)
		}
	}
	for name, src := range want {
		if _, ok := s.entries[name]; ok {
			continue
		}
		sched, err := config.ParseSchedule(src.Schedule)
		if err != nil {
			return fmt.Errorf("schedule source %s: %w", name, err)
		}
		id := s.cron.Schedule(sched, s.job(src))
		s.entries[name] = scheduled{id: id, src: src}
		if s.isDueLocked(src, sched) {
			// Take the wrapped job now (it shares SkipIfStillRunning's
			// state with the ticks): by the time the goroutine runs, a
			// reload may have removed the entry, and a removed entry's
			// zero value has no job.
			run := s.cron.Entry(id).WrappedJob
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				run.Run()
			}()
		}
	}
	return nil
}

// isDueLocked reports whether src has missed its last tick (or never ran).
func (s *Scheduler) isDueLocked(src config.Source, sched cron.Schedule) bool {
	st, err := s.poller.state.SourceState(src.Name)
	if err != nil || st.LastAttempt.IsZero() {
		return true
	}
	return !sched.Next(st.LastAttempt).After(time.Now())
}

// job returns the cron job of one source: wait a random jitter, then poll.
func (s *Scheduler) job(src config.Source) cron.Job {
	return cron.FuncJob(func() {
		s.mu.Lock()
		ctx := s.ctx
		s.mu.Unlock()
		if ctx == nil || ctx.Err() != nil {
			return
		}
		if s.jitter > 0 {
			if err := s.poller.opts.Wait(ctx, rand.N(s.jitter)); err != nil {
				return
			}
		}
		res, err := s.poller.Poll(ctx, src, false)
		if err != nil && ctx.Err() == nil {
			s.log.Error("poll source", "source", src.Name, "err", err)
		}
		if s.OnResult != nil && !res.Skipped {
			s.OnResult(res)
		}
	})
}

// Stop stops the clock and waits for running polls to end. Cancel the
// context given to Start first to make them end quickly.
func (s *Scheduler) Stop() {
	<-s.cron.Stop().Done()
	s.wg.Wait()
}

// Next returns each scheduled source's next tick time.
func (s *Scheduler) Next() map[string]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]time.Time, len(s.entries))
	for name, e := range s.entries {
		out[name] = s.cron.Entry(e.id).Next
	}
	return out
}

// runOncePool is the least width of RunOnce's worker pool.
const runOncePool = 64

// RunOnce polls every enabled source once, concurrently within the
// Poller's limits, ignoring backoff, and returns every result in the
// order of sources. An error is returned only for failures of tierwatch
// itself (the store); failing sources are in their Result.Err.
func RunOnce(ctx context.Context, p *Poller, sources []config.Source) ([]Result, error) {
	results := make([]Result, len(sources))
	errs := make([]error, len(sources))
	// A bounded pool: one goroutine per source would park thousands on the
	// limit at 10,000 sources. It is wider than the Poller's fetch slots
	// because a poll waiting out its host's gap holds a worker but no slot,
	// and polls of other hosts must go on meanwhile.
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(len(sources), max(4*p.opts.Concurrency, runOncePool)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				results[i], errs[i] = p.Poll(ctx, sources[i], true)
			}
		}()
	}
feed:
	for i, src := range sources {
		if src.Disabled {
			results[i] = Result{Source: src.Name, Skipped: true}
			continue
		}
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return results, err
		}
	}
	return results, ctx.Err()
}

// cronLogger routes robfig/cron's logs (including recovered panics) to slog.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron "+msg, append(kv, "err", err)...)
}
