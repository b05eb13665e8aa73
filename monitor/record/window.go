package record

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/monitor"
)

// Window is the span of modification or publication dates one read asks
// for. APIs take whole days, so both ends are inclusive at day precision.
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Checkpoint is the resume state a windowed adapter keeps in
// model.SourceState.Checkpoint. Done is the end of the last window read to
// its last page; Pending is a window whose first pages were delivered
// before the quota ran out, with the cursor of its next page; PausedUntil
// stops the source until its quota renews.
type Checkpoint struct {
	Done        time.Time `json:"done,omitzero"`
	Pending     *Pending  `json:"pending,omitempty"`
	PausedUntil time.Time `json:"paused_until,omitzero"`
}

// Pending is a partly delivered window.
type Pending struct {
	Window
	Cursor string `json:"cursor"`
}

// LoadCheckpoint decodes s; an empty or unreadable checkpoint is a fresh
// start (the lookback window), never an error: items are deduplicated by
// key, so re-reading is safe.
func LoadCheckpoint(s string) Checkpoint {
	var cp Checkpoint
	if s == "" || json.Unmarshal([]byte(s), &cp) != nil {
		return Checkpoint{}
	}
	return cp
}

// String encodes the checkpoint for SourceState.Checkpoint.
func (cp Checkpoint) String() string {
	b, err := json.Marshal(cp)
	if err != nil {
		return "" // cannot happen for these field types
	}
	return string(b)
}

// Page is one page of results.
type Page struct {
	Items []model.Item
	// Next is the cursor of the following page (an offset, a page number
	// or a URL); "" when this was the last page.
	Next string
}

// FetchPage reads the page at cursor ("" is the first) of window w. A
// *monitor.FetchError of class rate_limited means the quota is used up.
type FetchPage func(ctx context.Context, w Window, cursor string) (Page, error)

// Options tune Run.
type Options struct {
	// MaxSpan caps a window (SAM.gov opportunities: a year); 0 means none.
	MaxSpan time.Duration
	// DailyQuota says the peer's quota renews at midnight UTC (SAM.gov), so
	// a rate limit without Retry-After pauses the source until then.
	DailyQuota bool
	// MaxPages bounds the pages of one poll, a guard against a peer that
	// never stops paging; 0 means 1000.
	MaxPages int
	Log      *slog.Logger
}

// Run polls one windowed, paged source. A file: URL is read once as a
// single page with conditional validators and no window. Otherwise Run
// resumes a pending window at its cursor or starts a window from the last
// Done minus the overlap (or now minus the lookback) to now, spends one
// unit of the daily budget before each request, and reads pages until the
// last. Then it advances Done to the window's end.
//
// When the budget or the peer's quota runs out after some pages were read,
// Run returns those items with no error and records the window and cursor
// as pending and the source as paused until the quota renews; the next poll
// then fails fast with a rate_limited error until then. Any other error, or
// a quota error before the first page, is returned with the checkpoint
// unchanged, so the items of the failed poll are read again later (keys
// deduplicate them). Run never misses a record and relies on stable keys to
// never repeat one.
func Run(ctx context.Context, src config.Source, st *model.SourceState, now time.Time, opts Options, fetch FetchPage) ([]model.Item, error) {
	if opts.MaxPages <= 0 {
		opts.MaxPages = 1000
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if IsFile(src.URL) {
		if err := monitor.Spend(src.DailyBudget, st, now); err != nil {
			return nil, err
		}
		p, err := fetch(ctx, Window{To: now}, "")
		return p.Items, err
	}
	cp := LoadCheckpoint(st.Checkpoint)
	if now.Before(cp.PausedUntil) {
		return nil, &monitor.FetchError{Source: src.Name, Class: model.ClassRateLimited,
			RetryAfter: cp.PausedUntil.Sub(now), Err: ErrQuotaPaused}
	}
	cp.PausedUntil = time.Time{}
	w, cursor := plan(cp, src.QueryValue(), now, opts.MaxSpan)

	var items []model.Item
	for pages := 0; ; pages++ {
		if pages >= opts.MaxPages {
			return nil, &monitor.FetchError{Source: src.Name, Class: model.ClassParse,
				Err: fmt.Errorf("more than %d pages in one poll", opts.MaxPages)}
		}
		err := monitor.Spend(src.DailyBudget, st, now)
		var p Page
		if err == nil {
			p, err = fetch(ctx, w, cursor)
		}
		if err != nil {
			retry, quota := quotaError(err, now, opts.DailyQuota)
			if !quota {
				return nil, err
			}
			monitor.Exhaust(src.DailyBudget, st, now) // the peer says the quota is gone
			if len(items) == 0 {
				return nil, withRetry(err, retry)
			}
			cp.Pending = &Pending{Window: w, Cursor: cursor}
			cp.PausedUntil = now.Add(retry)
			st.Checkpoint = cp.String()
			opts.Log.Warn("source quota used up mid-window", "source", src.Name,
				"items", len(items), "resume_at", cp.PausedUntil, "err", err)
			return items, nil
		}
		items = append(items, p.Items...)
		if p.Next == "" {
			break
		}
		if p.Next == cursor {
			return nil, &monitor.FetchError{Source: src.Name, Class: model.ClassParse,
				Err: errors.New("paging did not advance")}
		}
		cursor = p.Next
	}
	cp.Done, cp.Pending = w.To, nil
	st.Checkpoint = cp.String()
	return items, nil
}

// ErrQuotaPaused is returned (in a rate_limited FetchError) while a source
// waits for its quota to renew.
var ErrQuotaPaused = errors.New("quota used up; paused until it renews")

// plan picks the window and cursor of this poll.
func plan(cp Checkpoint, q config.Query, now time.Time, maxSpan time.Duration) (Window, string) {
	if cp.Pending != nil && !cp.Pending.From.IsZero() && !cp.Pending.To.Before(cp.Pending.From) {
		return cp.Pending.Window, cp.Pending.Cursor
	}
	lookback, overlap := q.Lookback, q.Overlap
	if lookback <= 0 {
		lookback = config.DefaultLookback
	}
	if overlap <= 0 {
		overlap = config.DefaultOverlap
	}
	from := now.Add(-lookback)
	if !cp.Done.IsZero() && !cp.Done.After(now) {
		from = cp.Done.Add(-overlap)
	}
	to := now
	if maxSpan > 0 && to.Sub(from) > maxSpan {
		to = from.Add(maxSpan)
	}
	return Window{From: from.UTC(), To: to.UTC()}, ""
}

// quotaError reports whether err means the quota is used up and how long
// to wait.
func quotaError(err error, now time.Time, daily bool) (time.Duration, bool) {
	fe, ok := errors.AsType[*monitor.FetchError](err)
	if !ok || fe.Class != model.ClassRateLimited {
		return 0, false
	}
	retry := fe.RetryAfter
	if daily || errors.Is(err, monitor.ErrBudgetExhausted) {
		retry = max(retry, monitor.UntilRenewal(now))
	}
	if retry <= 0 {
		retry = time.Minute
	}
	return retry, true
}

func withRetry(err error, d time.Duration) error {
	if fe, ok := errors.AsType[*monitor.FetchError](err); ok && fe.RetryAfter < d {
		c := *fe
		c.RetryAfter = d
		return &c
	}
	return err
}

// IsFile reports whether raw is a file: URL (sample data, read whole).
func IsFile(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "file"
}
