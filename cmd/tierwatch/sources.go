package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/monitor"
	"github.com/tierwatch/tierwatch/review"
	"github.com/tierwatch/tierwatch/storage"
)

func cmdSources(e *env, args []string) error {
	fs := newFlags(e, "sources")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	store, client, err := openLocalOrDaemon(cfg)
	if err != nil {
		return err
	}
	var l review.SourceLister = client // the daemon's API, or the store when no daemon runs
	if store != nil {
		defer store.Close()
		l = sourceTable{sources: func() []config.Source { return cfg.Sources }, store: store}
	}
	rows, err := l.Sources(context.Background())
	if err != nil {
		return err
	}
	if *asJSON {
		if rows == nil {
			rows = []review.SourceRow{}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	now := time.Now()
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tTYPE\tLAST SUCCESS\tERRORS\tLAST ERROR\tNEXT RUN\tITEMS SEEN\tBUDGET LEFT")
	for _, r := range rows {
		budget := "-"
		if r.BudgetLeft != nil {
			budget = fmt.Sprint(*r.BudgetLeft)
		}
		next := ago(r.NextRun, now)
		if r.Disabled {
			next = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%d\t%s\n", r.Name, r.Type, ago(r.State.LastSuccess, now),
			r.State.ConsecutiveErrors, cut(r.State.LastError, 60), next, r.State.ItemsSeen, budget)
	}
	return tw.Flush()
}

// sourceTable builds the rows from the config's sources and the stored
// state. The daemon serves one with its scheduler's ticks (review.go); the
// CLI uses one without when it holds the store. It is safe for concurrent
// use when sources and next are.
type sourceTable struct {
	sources func() []config.Source
	store   *storage.Store
	// next returns the scheduler's next tick per source; nil when no
	// scheduler runs, and the tick is then computed from the last attempt.
	next func() map[string]time.Time
}

// Sources returns one row per configured source, in config order.
func (t sourceTable) Sources(ctx context.Context) ([]review.SourceRow, error) {
	now := time.Now()
	var ticks map[string]time.Time
	if t.next != nil {
		ticks = t.next()
	}
	var rows []review.SourceRow
	for _, s := range t.sources() {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("list sources: %w", err)
		}
		st, err := t.store.SourceState(s.Name)
		if err != nil {
			return nil, err
		}
		rows = append(rows, review.SourceRow{Name: s.Name, Type: s.Type, Schedule: s.Schedule, Disabled: s.Disabled,
			NextRun: nextRun(s, st, ticks[s.Name], now), State: st, BudgetLeft: budgetLeft(s, st, now)})
	}
	return rows, nil
}

// nextRun is when the daemon would next poll s: its next tick (tick, the
// scheduler's own, when known; else the one after the last attempt), or
// later while it backs off after errors.
func nextRun(s config.Source, st model.SourceState, tick, now time.Time) time.Time {
	sched, err := config.ParseSchedule(s.Schedule)
	if err != nil {
		return time.Time{}
	}
	next := tick
	if next.IsZero() {
		if st.LastAttempt.IsZero() {
			return now
		}
		next = sched.Next(st.LastAttempt)
	}
	for next.Before(st.NextRun) {
		next = sched.Next(next)
	}
	return next
}

func ago(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := t.Sub(now).Round(time.Second)
	if d < 0 {
		return (-d).String() + " ago"
	}
	return "in " + d.String()
}

func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func budgetLeft(s config.Source, st model.SourceState, now time.Time) *int {
	left := monitor.BudgetLeft(s.DailyBudget, st, now)
	if left < 0 {
		return nil
	}
	return &left
}
