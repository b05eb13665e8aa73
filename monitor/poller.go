package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"sync"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
)

// StateStore reads what tierwatch remembers about a source.
type StateStore interface {
	SourceState(name string) (model.SourceState, error)
}

// Sink receives the outcome of one poll: the source's new state and the
// items it yielded (none after an error or a 304). It must save both in one
// write, so a crash never leaves items stored under stale validators, and
// returns how many items were new.
type Sink interface {
	Ingest(ctx context.Context, src config.Source, st model.SourceState, items []model.Item) (int, error)
}

// Adapter turns one poll of a source into items. The feed adapter is built
// in; procurement and page adapters live in subpackages and are handed to
// the Poller by type, so this package never imports them.
type Adapter interface {
	// Poll fetches through f and returns normalised items. It may update
	// st's validators, Checkpoint and budget fields; the Poller saves st.
	Poll(ctx context.Context, f *Fetcher, src config.Source, st *model.SourceState, now time.Time) ([]model.Item, error)
}

// AdapterLog returns the logger of an adapter of source type typ: log
// (nil discards) narrowed with the adapter's name.
func AdapterLog(log *slog.Logger, typ string) *slog.Logger {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return log.With("adapter", typ)
}

// AdapterFunc adapts a function to Adapter.
type AdapterFunc func(ctx context.Context, f *Fetcher, src config.Source, st *model.SourceState, now time.Time) ([]model.Item, error)

// Poll calls fn.
func (fn AdapterFunc) Poll(ctx context.Context, f *Fetcher, src config.Source, st *model.SourceState, now time.Time) ([]model.Item, error) {
	return fn(ctx, f, src, st, now)
}

// Result is what one poll did, for summaries and metrics.
type Result struct {
	Source   string
	Items    int // items the source yielded
	New      int // items not seen before
	Skipped  bool
	Err      error
	Duration time.Duration
}

// PollerOptions configure a Poller.
type PollerOptions struct {
	Concurrency int           // sources fetched at once (default 8)
	HostGap     time.Duration // minimum gap between requests to one host
	BackoffBase time.Duration
	BackoffMax  time.Duration
	Now         func() time.Time // default time.Now
	// Wait blocks for d or until ctx ends; default a timer. Tests inject it.
	Wait func(ctx context.Context, d time.Duration) error
}

// Poller polls one source at a time per call, any number of calls at
// once: it bounds concurrency overall and spaces requests to one host.
// It is safe for concurrent use.
type Poller struct {
	fetcher  *Fetcher
	state    StateStore
	sink     Sink
	adapters map[string]Adapter
	opts     PollerOptions
	log      *slog.Logger
	slots    chan struct{} // global concurrency limit

	mu        sync.Mutex           // guards nextHost and lastStart
	nextHost  map[string]time.Time // next turn per host, booked before taking a slot
	lastStart map[string]time.Time // next turn per host, booked with the slot held
}

// NewPoller returns a Poller. adapters maps source types other than "feed"
// to their adapters.
func NewPoller(f *Fetcher, state StateStore, sink Sink, adapters map[string]Adapter, opts PollerOptions, log *slog.Logger) *Poller {
	if opts.Concurrency < 1 {
		opts.Concurrency = 8
	}
	if opts.BackoffBase <= 0 {
		opts.BackoffBase = time.Minute
	}
	if opts.BackoffMax < opts.BackoffBase {
		opts.BackoffMax = 6 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Wait == nil {
		opts.Wait = wait
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	all := map[string]Adapter{model.SourceFeed: AdapterFunc(pollFeed)}
	for k, v := range adapters {
		all[k] = v
	}
	return &Poller{
		fetcher: f, state: state, sink: sink, adapters: all, opts: opts,
		log: log, slots: make(chan struct{}, opts.Concurrency), nextHost: map[string]time.Time{},
		lastStart: map[string]time.Time{},
	}
}

// wait blocks for d, or until ctx is done.
func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// Poll polls src once. With force false it skips a source whose backoff
// has not yet expired. Errors of the source itself (fetch, parse) are
// recorded in its state and returned in Result.Err; Poll returns an error
// only when the state could not be read or saved.
func (p *Poller) Poll(ctx context.Context, src config.Source, force bool) (Result, error) {
	res := Result{Source: src.Name}
	st, err := p.state.SourceState(src.Name)
	if err != nil {
		return res, fmt.Errorf("poll source %s: %w", src.Name, err)
	}
	st.Name = src.Name
	if now := p.opts.Now(); !force && now.Before(st.NextRun) {
		p.log.Debug("source backing off", "source", src.Name, "next_run", st.NextRun)
		res.Skipped = true
		return res, nil
	}
	adapter, ok := p.adapters[src.Type]
	if !ok {
		res.Err = &FetchError{Source: src.Name, Class: model.ClassPermanent, Err: fmt.Errorf("no adapter for source type %q", src.Type)}
		return res, p.fail(ctx, src, st, res.Err)
	}

	// Wait out the host's gap before taking a global slot: a poll waiting
	// for its host must not hold a slot that a poll of another host could
	// use (ten SAM.gov sources would otherwise fill every slot). Polls that
	// waited their turns can still meet again in the queue for slots, so
	// the gap is checked once more with the slot held; that second wait is
	// zero unless slots were scarce.
	host := hostOf(src.URL)
	if err := p.politeWait(ctx, host); err != nil {
		return res, err
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return res, context.Cause(ctx)
	}
	defer func() { <-p.slots }()
	if err := p.hostStart(ctx, host); err != nil {
		return res, err
	}

	start := p.opts.Now()
	st.LastAttempt = start
	items, perr := adapter.Poll(ctx, p.fetcher, src, &st, start)
	res.Duration = p.opts.Now().Sub(start)
	if perr != nil {
		if ctx.Err() != nil {
			// Shutting down: not the source's fault; leave its state alone.
			return res, context.Cause(ctx)
		}
		res.Err = perr
		return res, p.fail(ctx, src, st, perr)
	}
	res.Items = len(items)
	st.LastSuccess = p.opts.Now()
	st.LastError, st.LastErrorClass, st.ConsecutiveErrors = "", "", 0
	st.FailingSince, st.NextRun = time.Time{}, time.Time{}
	n, err := p.sink.Ingest(ctx, src, st, items)
	if err != nil {
		return res, fmt.Errorf("store source %s: %w", src.Name, err)
	}
	res.New = n
	p.log.Debug("source polled", "source", src.Name, "items", len(items), "new", n, "duration", res.Duration)
	return res, nil
}

// fail records a failed poll and schedules the retry.
func (p *Poller) fail(ctx context.Context, src config.Source, st model.SourceState, perr error) error {
	now := p.opts.Now()
	class, retryAfter := ClassOf(perr)
	if st.ConsecutiveErrors == 0 {
		st.FailingSince = now
	}
	st.ConsecutiveErrors++
	st.LastError, st.LastErrorClass = perr.Error(), class
	delay := Backoff(st.ConsecutiveErrors, p.opts.BackoffBase, p.opts.BackoffMax, retryAfter, rand.Float64)
	st.NextRun = now.Add(delay)
	p.log.Warn("source failed", "source", src.Name, "class", class, "attempt", st.ConsecutiveErrors,
		"retry_in", delay.Round(time.Second), "err", perr)
	if _, err := p.sink.Ingest(ctx, src, st, nil); err != nil {
		return fmt.Errorf("store state of source %s: %w", src.Name, err)
	}
	return nil
}

// ClassOf returns the error class (see ErrorClassOf) and the Retry-After
// of a poll error.
func ClassOf(err error) (model.ErrorClass, time.Duration) {
	var fe *FetchError
	if errors.As(err, &fe) {
		return fe.Class, fe.RetryAfter
	}
	return ErrorClassOf(err), 0
}

// hostOf returns the host politeness applies to, or "" for file:// and
// bad URLs, which have no host to be polite to.
func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Host
}

// politeWait holds a request until the host's gap since the last request
// to it has passed. The turn is booked before waiting so concurrent
// callers queue one gap apart.
func (p *Poller) politeWait(ctx context.Context, host string) error {
	return p.book(ctx, p.nextHost, host)
}

// hostStart holds a request, its slot taken, until HostGap has passed
// since the last request to host began, booking its own start the same
// way. Polls that waited their turns in politeWait and then queued for
// slots behind other hosts can leave the queue together; this spaces them
// again. Without slot contention their turns have passed and it waits 0.
func (p *Poller) hostStart(ctx context.Context, host string) error {
	return p.book(ctx, p.lastStart, host)
}

// book reserves the first time in turns[host] not before now, moves the
// host's next turn one gap past it, and waits for it.
func (p *Poller) book(ctx context.Context, turns map[string]time.Time, host string) error {
	if p.opts.HostGap <= 0 || host == "" {
		return nil
	}
	p.mu.Lock()
	now := p.opts.Now()
	at := turns[host]
	if at.Before(now) {
		at = now
	}
	turns[host] = at.Add(p.opts.HostGap)
	p.mu.Unlock()
	return p.opts.Wait(ctx, at.Sub(now))
}

// pollFeed is the adapter of RSS, Atom and JSON Feed sources.
func pollFeed(ctx context.Context, f *Fetcher, src config.Source, st *model.SourceState, now time.Time) ([]model.Item, error) {
	if err := Spend(src.DailyBudget, st, now); err != nil {
		return nil, err
	}
	resp, err := f.Fetch(ctx, Request{Source: src.Name, URL: src.URL, ETag: st.ETag, LastModified: st.LastModified})
	if err != nil {
		return nil, err
	}
	if resp.NotModified {
		return nil, nil
	}
	feed, err := ParseFeed(resp.Body, resp.ContentType)
	if err != nil {
		var fe *FetchError
		if errors.As(err, &fe) && fe.Source == "" {
			fe.Source, fe.URL = src.Name, RedactURL(src.URL)
		}
		return nil, err
	}
	// Validators are kept only once the body parsed, so a broken body is
	// fetched in full again next time rather than answered with 304.
	st.ETag, st.LastModified = resp.ETag, resp.LastModified
	return Normalise(Source{Name: src.Name, URL: src.URL, Publisher: src.Publisher, Tier: src.Tier}, feed, now), nil
}
