// Package ingest turns the items of one poll into stored items, candidate
// events and alerts. For each source poll it resolves publisher tiers,
// drops items already seen, matches the rest against the watch rules
// (outside any store transaction), and then in ONE store write records the
// source's state, the new items, their candidates and the outbox records
// those candidates trigger, so a crash never leaves one without the other.
//
// It sits between monitor (which calls it as a Sink) and storage, and
// imports rules and storage; nothing imports it but cmd.
package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/rules"
	"github.com/tierwatch/tierwatch/storage"
)

// Pipeline is the ingest stage. It is safe for concurrent use by polls of
// different sources; polls of one source must not overlap (the scheduler
// guarantees it).
type Pipeline struct {
	store *storage.Store
	rules atomic.Pointer[ruleset] // swapped whole by Reload
	log   *slog.Logger
	now   func() time.Time
	// OnAlert is called after a commit that enqueued alerts (to wake the
	// dispatcher); OnStats after every commit (metrics).
	OnAlert func()
	OnStats func(Stats)
}

// ruleset is everything the pipeline derives from the watch config. A poll
// reads it once, so a reload mid-poll never mixes two configs.
type ruleset struct {
	matcher      *rules.Matcher
	grouper      *rules.Grouper
	tiers        *rules.Tiers
	alerts       config.Alerts
	failingAfter time.Duration
}

// Stats is what one ingest did.
type Stats struct {
	Source     string
	Items, New int
	Matched    map[string]int // rule name -> items matched
	Created    int            // candidates created
	Joined     int            // items that joined an existing candidate
	Alerts     int            // outbox records written
}

// New builds a Pipeline from the watch config.
func New(store *storage.Store, cfg *config.Config, log *slog.Logger) (*Pipeline, error) {
	p := &Pipeline{store: store, log: log, now: time.Now}
	if err := p.Reload(cfg); err != nil {
		return nil, err
	}
	return p, nil
}

// Reload replaces the rules, tiers, grouping and alert routing with those
// of cfg. Polls already running finish with the old set.
func (p *Pipeline) Reload(cfg *config.Config) error {
	m, err := rules.NewMatcher(cfg.Watch)
	if err != nil {
		return fmt.Errorf("build matcher: %w", err)
	}
	p.rules.Store(&ruleset{
		matcher:      m,
		grouper:      rules.NewGrouper(cfg.Candidates, m),
		tiers:        rules.NewTiers(cfg.Tiers),
		alerts:       cfg.Alerts,
		failingAfter: cfg.Service.SourceFailingAfter,
	})
	return nil
}

// SetClock replaces the pipeline's clock (tests).
func (p *Pipeline) SetClock(now func() time.Time) { p.now = now }

// Ingest implements monitor.Sink.
func (p *Pipeline) Ingest(ctx context.Context, src config.Source, st model.SourceState, items []model.Item) (int, error) {
	stats, err := p.IngestStats(ctx, src, st, items)
	return stats.New, err
}

// IngestStats is Ingest returning what it did.
func (p *Pipeline) IngestStats(ctx context.Context, src config.Source, st model.SourceState, items []model.Item) (Stats, error) {
	stats := Stats{Source: src.Name, Items: len(items), Matched: map[string]int{}}
	rs := p.rules.Load()
	for i := range items {
		rs.resolveTier(src, &items[i])
	}
	keys := make([]string, len(items))
	for i, it := range items {
		keys[i] = it.Key
	}
	unseen, err := p.store.Unseen(src.Name, keys)
	if err != nil {
		return stats, fmt.Errorf("ingest source %s: %w", src.Name, err)
	}
	// Match outside the write transaction: it is the costly part. Only
	// the new items go on to Commit, which encodes each item it is given
	// before it learns whether the item was seen.
	matches := map[string][]model.Match{}
	fresh := make([]model.Item, 0, len(items))
	for i := range items {
		if !unseen[i] {
			continue
		}
		if ms := rs.match(&items[i]); len(ms) > 0 {
			matches[items[i].Key] = ms
		}
		fresh = append(fresh, items[i])
	}
	// Commit adds the new items to st.ItemsSeen. Its callbacks may run
	// more than once (commits of concurrent sources share a transaction
	// that is rerun when one fails), so they record results by item key
	// and assign rather than add; the counts are taken after the commit.
	now := p.now()
	type outcome struct {
		alerts  int
		created bool
	}
	outcomes := map[string]outcome{}
	healthAlerts := 0
	healthEv, healthDetail := healthEvent(&st, rs.failingAfter, now)
	onState := func(tx *storage.Tx) error {
		if healthEv == "" {
			return nil
		}
		n, err := p.enqueueHealth(tx, rs, src.Name, healthEv, healthDetail, now)
		healthAlerts = n
		return err
	}
	newItems, err := p.store.CommitWith(ctx, st, fresh, func(tx *storage.Tx, it model.Item) error {
		delete(outcomes, it.Key) // a rerun may end otherwise than the first run
		ms := matches[it.Key]
		if len(ms) == 0 {
			return nil
		}
		n, kind, err := p.group(tx, rs, it, ms, now)
		if err != nil || kind == unchanged {
			return err
		}
		outcomes[it.Key] = outcome{alerts: n, created: kind == created}
		return nil
	}, onState)
	nCreated, nJoined, alerts := 0, 0, healthAlerts
	matched := map[string]int{}
	for _, it := range newItems {
		o, ok := outcomes[it.Key]
		if !ok {
			continue
		}
		for _, m := range matches[it.Key] {
			matched[m.Rule]++
		}
		if o.created {
			nCreated++
		} else {
			nJoined++
		}
		alerts += o.alerts
	}
	if err != nil {
		return stats, fmt.Errorf("ingest source %s: %w", src.Name, err)
	}
	if healthEv != "" {
		p.log.Warn("source health changed", "source", src.Name, "event", healthEv, "detail", healthDetail)
	}
	stats.New, stats.Created, stats.Joined, stats.Alerts, stats.Matched = len(newItems), nCreated, nJoined, alerts, matched
	if stats.Created+stats.Joined > 0 {
		p.log.Info("candidates updated", "source", src.Name, "new", stats.New, "created", nCreated, "joined", nJoined, "alerts", alerts)
	}
	if alerts > 0 && p.OnAlert != nil {
		p.OnAlert()
	}
	if p.OnStats != nil {
		p.OnStats(stats)
	}
	return stats, nil
}

// grouping says what group did with an item.
type grouping int

const (
	unchanged grouping = iota // the candidate already held the item and its matches
	created                   // a new candidate
	joined                    // an existing candidate gained a source or match
)

// group adds one matched item to its candidate inside tx and enqueues the
// alerts the change triggers. It returns the number of alerts and what it
// did; an unchanged candidate is not written again.
func (p *Pipeline) group(tx *storage.Tx, rs *ruleset, it model.Item, ms []model.Match, now time.Time) (int, grouping, error) {
	out, err := rs.grouper.Group(tx, it, ms, now)
	if err != nil {
		return 0, unchanged, fmt.Errorf("group item %s: %w", it.Key, err)
	}
	if out.Candidate == nil || (!out.Created && !out.Changed) {
		return 0, unchanged, nil
	}
	if err := tx.PutCandidate(out.Candidate); err != nil {
		return 0, unchanged, fmt.Errorf("save candidate for item %s: %w", it.Key, err)
	}
	n := 0
	for _, ev := range out.Events {
		for _, dest := range rs.alerts.Route(out.Candidate, ev) {
			rec := model.OutboxRecord{Dest: dest, Event: ev, CandidateID: out.Candidate.ID, CreatedAt: now}
			if err := tx.Enqueue(rec); err != nil {
				return 0, unchanged, fmt.Errorf("enqueue alert for %s: %w", out.Candidate.ID, err)
			}
			n++
		}
	}
	p.log.Debug("item grouped", "item_id", it.Key, "candidate_id", out.Candidate.ID, "created", out.Created)
	if out.Created {
		return n, created, nil
	}
	return n, joined, nil
}

// resolveTier sets the item's canonical publisher and tier: a source's own
// tier wins, then a tier the adapter set (procurement records are tier 1),
// then the tier table.
func (rs *ruleset) resolveTier(src config.Source, it *model.Item) {
	name, tier := rs.tiers.Resolve(it.Publisher, it.Domain)
	if name != "" {
		it.Publisher = name
	}
	switch {
	case src.Tier.Valid():
		it.Tier = src.Tier
	case it.Tier.Valid():
	default:
		it.Tier = tier
	}
}

// match runs the matcher and ties each match to its item, so a candidate
// can say which of its sources each match came from.
func (rs *ruleset) match(it *model.Item) []model.Match {
	ms := rs.matcher.Match(it)
	for i := range ms {
		ms[i].ItemKey, ms[i].Source = it.Key, it.Source
	}
	return ms
}
