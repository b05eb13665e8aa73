package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/tierwatch/tierwatch/model"
)

// queueCommands are the `tierwatch queue` subcommands.
func queueCommands() map[string]func(e *env, args []string) error {
	return map[string]func(e *env, args []string) error{
		"list":   cmdQueueList,
		"show":   cmdQueueShow,
		"accept": decisionCommand(model.ActionAccept, 1),
		"reject": decisionCommand(model.ActionReject, 1),
		"snooze": decisionCommand(model.ActionSnooze, 1),
		"dup":    decisionCommand(model.ActionDuplicate, 2),
		"edit":   decisionCommand(model.ActionEdit, 1),
		"undo":   decisionCommand(model.ActionUndo, 0),
		"next":   cmdQueueNext,
	}
}

func cmdQueue(e *env, args []string) error {
	subs := queueCommands()
	if len(args) == 0 {
		return &exitError{code: 2, err: fmt.Errorf("queue needs a subcommand: %s", strings.Join(sortedKeys(subs), ", "))}
	}
	fn, ok := subs[args[0]]
	if !ok {
		return &exitError{code: 2, err: fmt.Errorf("unknown queue subcommand %q (want %s)", args[0], strings.Join(sortedKeys(subs), ", "))}
	}
	return fn(e, args[1:])
}

// cmdQueueList prints candidates by score. With --json it prints a JSON
// array of candidates in the contract of `queue show --json`.
func cmdQueueList(e *env, args []string) error {
	fs := newFlags(e, "queue list")
	status := fs.String("status", "", "only candidates with this status (pending, accepted, rejected, snoozed, duplicate)")
	asJSON := fs.Bool("json", false, "print a JSON array")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cands, err := e.candidates(*status)
	if err != nil {
		return err
	}
	if *asJSON {
		if cands == nil {
			cands = []model.Candidate{}
		}
		return writeJSON(e, cands)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCORE\tIMP\tSTATUS\tTIER\tSOURCES\tID\tTITLE")
	for _, c := range cands {
		title := cut(c.Title, 80)
		if c.Known {
			// The configured timeline already cites one of its sources.
			title = "[known] " + title
		}
		fmt.Fprintf(tw, "%.2f\t%d\t%s\t%d\t%d\t%s\t%s\n", c.Score, c.Importance, c.Status, c.BestTier(), len(c.Sources), c.ID, title)
	}
	return tw.Flush()
}

// cmdQueueShow prints one candidate with its sources and the matches that
// explain it.
func cmdQueueShow(e *env, args []string) error {
	fs := newFlags(e, "queue show")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(reorder(args)); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return &exitError{code: 2, err: fmt.Errorf("queue show needs one candidate id")}
	}
	c, err := e.candidate(fs.Arg(0))
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e, c)
	}
	w := e.stdout
	fmt.Fprintf(w, "%s  [%s]  score %.2f  importance %d\n", c.ID, c.Status, c.Score, c.Importance)
	fmt.Fprintf(w, "%s\n", c.Title)
	fmt.Fprintf(w, "date %s  first seen %s  last seen %s\n", c.Date, c.FirstSeen.Format("2006-01-02 15:04"), c.LastSeen.Format("2006-01-02 15:04"))
	fmt.Fprintf(w, "actors: %s\ntags: %s\nrules: %s\n", strings.Join(c.Actors, ", "), strings.Join(c.Tags, ", "), strings.Join(c.Rules, ", "))
	p := c.ScoreParts
	fmt.Fprintf(w, "score: rule weight %.2f × tier %d factor %.2f × corroboration %.2f (%d publishers) × recency %.2f\n",
		p.RuleWeight, p.BestTier, p.TierFactor, p.Corroboration, p.Publishers, p.Recency)
	fmt.Fprintln(w, "sources:")
	for _, s := range c.Sources {
		fmt.Fprintf(w, "  [tier %d] %s — %s (%s)\n           %s\n", s.Tier, s.Publisher, s.Title, s.Date, s.URL)
	}
	fmt.Fprintln(w, "matches:")
	for _, m := range c.Matches {
		fmt.Fprintf(w, "  rule %s (weight %.2f) on %s/%s\n", m.Rule, m.Weight, m.Source, m.ItemKey)
		for _, h := range m.Hits {
			ent := ""
			if h.Entity != "" {
				ent = " = " + h.Entity
			}
			fmt.Fprintf(w, "    %s[%d:%d] %q (term %q%s)\n", h.Field, h.Start, h.End, h.Text, h.Term, ent)
		}
	}
	if len(c.History) > 0 {
		fmt.Fprintln(w, "history:")
		for _, h := range c.History {
			fmt.Fprintf(w, "  %s %s %s\n", h.At.Format("2006-01-02 15:04:05"), h.Kind, h.Detail)
		}
	}
	return nil
}

func writeJSON(e *env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// reorder moves flags before positional arguments, so `show ID --json`
// parses like `show --json ID`.
func reorder(args []string) []string {
	var flags, pos []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			flags = append(flags, a)
		} else {
			pos = append(pos, a)
		}
	}
	return append(flags, pos...)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// candidates reads candidates from the store, or through the daemon's API
// while it holds the store.
func (e *env) candidates(status string) ([]model.Candidate, error) {
	cfg, err := e.loadConfig()
	if err != nil {
		return nil, err
	}
	d, closeFn, err := openDecider(cfg)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	return d.Candidates(context.Background(), status)
}

func (e *env) candidate(id string) (model.Candidate, error) {
	cfg, err := e.loadConfig()
	if err != nil {
		return model.Candidate{}, err
	}
	d, closeFn, err := openDecider(cfg)
	if err != nil {
		return model.Candidate{}, err
	}
	defer closeFn()
	return d.Candidate(context.Background(), id)
}
