package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/monitor"
)

// sourceRow is one line of `tierwatch sources`.
type sourceRow struct {
	Name       string            `json:"name"`
	Type       string            `json:"type"`
	Schedule   string            `json:"schedule"`
	Disabled   bool              `json:"disabled,omitempty"`
	NextRun    time.Time         `json:"next_run,omitzero"`
	State      model.SourceState `json:"state"`
	BudgetLeft *int              `json:"budget_left,omitempty"`
}

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
	store, err := openStore(cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	now := time.Now()
	var rows []sourceRow
	for _, s := range cfg.Sources {
		st, err := store.SourceState(s.Name)
		if err != nil {
			return err
		}
		rows = append(rows, sourceRow{Name: s.Name, Type: s.Type, Schedule: s.Schedule, Disabled: s.Disabled,
			NextRun: nextRun(s, st, now), State: st, BudgetLeft: budgetLeft(s, st, now)})
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
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

// nextRun is when the daemon would next poll s: its next tick, or later
// while it backs off after errors.
func nextRun(s config.Source, st model.SourceState, now time.Time) time.Time {
	sched, err := config.ParseSchedule(s.Schedule)
	if err != nil {
		return time.Time{}
	}
	from := st.LastAttempt
	if from.IsZero() {
		return now
	}
	next := sched.Next(from)
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
