package model

import (
	"slices"
	"time"
)

// Candidate statuses.
const (
	StatusPending   = "pending"
	StatusAccepted  = "accepted"
	StatusRejected  = "rejected"
	StatusSnoozed   = "snoozed"
	StatusDuplicate = "duplicate"
)

// Candidate is a proposed timeline event: every source that reports one
// event, the matches that explain it, and its review state. Its JSON form is
// the contract of `tierwatch queue show --json`.
type Candidate struct {
	// ID is "YYYY-MM-DD--slug" from Date and the title at creation; it never
	// changes afterwards (the store makes it unique with a suffix).
	ID         string    `json:"id"`
	Status     string    `json:"status"`
	Score      float64   `json:"score"`
	Importance int       `json:"importance"`
	Date       string    `json:"date"` // YYYY-MM-DD
	Title      string    `json:"title"`
	Actors     []string  `json:"actors"`
	Tags       []string  `json:"tags"`
	Rules      []string  `json:"rules"`
	Sources    []Ref     `json:"sources"`
	Matches    []Match   `json:"matches"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`

	// Summary is the body of the exported event; the reviewer may edit it.
	Summary string `json:"summary,omitempty"`
	// EventStatus is the timeline status set on accept (confirmed, reported, …).
	EventStatus string `json:"event_status,omitempty"`
	// ScoreParts shows how Score was made (see rules.Score).
	ScoreParts ScoreParts `json:"score_parts"`
	// Keys are the grouping keys: "url:<canonical url>" and procurement
	// identifiers ("piid:…"), kept so later items can find the candidate.
	Keys []string `json:"keys,omitempty"`
	// Route is the union of the alert routes of the rules that matched.
	Routes []string `json:"routes,omitempty"`

	Version     int            `json:"version"`
	SnoozeUntil time.Time      `json:"snooze_until,omitzero"`
	DuplicateOf string         `json:"duplicate_of,omitempty"`
	Exported    string         `json:"exported,omitempty"` // file name once exported
	Known       bool           `json:"known,omitempty"`    // an existing timeline already cites a source
	History     []HistoryEntry `json:"history,omitempty"`
}

// Ref is one source of a candidate, shaped like a timeline source.
type Ref struct {
	URL       string `json:"url"`
	Title     string `json:"title"`
	Publisher string `json:"publisher"`
	Date      string `json:"date"` // YYYY-MM-DD
	Tier      Tier   `json:"tier"`
	ItemKey   string `json:"item_key,omitempty"`
	Source    string `json:"source,omitempty"` // configured source name
}

// ScoreParts are the terms of the score formula, kept for display.
type ScoreParts struct {
	RuleWeight    float64 `json:"rule_weight"`
	BestTier      Tier    `json:"best_tier"`
	TierFactor    float64 `json:"tier_factor"`
	Publishers    int     `json:"publishers"`
	Corroboration float64 `json:"corroboration"`
	Recency       float64 `json:"recency"`
}

// HistoryEntry is one line of a candidate's short history.
type HistoryEntry struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"` // "created", "source_added", "score_changed", "decision", …
	Detail string    `json:"detail,omitempty"`
}

// MaxHistory bounds Candidate.History; older entries are dropped first
// (decisions are kept in full in the decision log).
const MaxHistory = 50

// AddHistory appends an entry, keeping at most MaxHistory.
func (c *Candidate) AddHistory(e HistoryEntry) {
	c.History = append(c.History, e)
	if n := len(c.History) - MaxHistory; n > 0 {
		c.History = slices.Delete(c.History, 0, n)
	}
}

// Clone returns a copy of c that shares no memory a caller could change,
// but for each match's Hits: hits are a function of the match's item and
// nothing changes them in place, and copying them cost one allocation per
// match on every join (storage hands out a clone of every saved
// candidate). TestCloneIsDeep fails when Candidate gains a reference field
// this does not copy.
func (c *Candidate) Clone() *Candidate {
	d := *c
	d.Actors = slices.Clone(c.Actors)
	d.Tags = slices.Clone(c.Tags)
	d.Rules = slices.Clone(c.Rules)
	d.Sources = slices.Clone(c.Sources)
	d.Matches = slices.Clone(c.Matches)
	d.Keys = slices.Clone(c.Keys)
	d.Routes = slices.Clone(c.Routes)
	d.History = slices.Clone(c.History)
	return &d
}

// BestTier returns the best (lowest) valid tier among the sources, or 0.
func (c *Candidate) BestTier() Tier {
	var best Tier
	for _, s := range c.Sources {
		if s.Tier.Valid() && (best == 0 || s.Tier < best) {
			best = s.Tier
		}
	}
	return best
}

// Publishers returns the number of distinct publishers among the sources.
func (c *Candidate) Publishers() int {
	seen := map[string]bool{}
	for _, s := range c.Sources {
		seen[s.Publisher] = true
	}
	return len(seen)
}

// IsOpen reports whether new sources may still join the candidate: pending
// or snoozed ones are open, decided ones are not.
func (c *Candidate) IsOpen() bool {
	return c.Status == StatusPending || c.Status == StatusSnoozed
}
