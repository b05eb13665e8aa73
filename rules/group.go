package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"golang.org/x/text/unicode/norm"
)

// CandidateIndex is what the Grouper reads of the store. *storage.Tx
// implements it.
type CandidateIndex interface {
	// CandidateByKey returns the candidate holding key in its Keys, or
	// nil, nil when none does.
	CandidateByKey(key string) (*model.Candidate, error)
	// OpenCandidatesSince returns the open candidates (pending or snoozed)
	// last seen at or after t.
	OpenCandidatesSince(t time.Time) ([]*model.Candidate, error)
}

// Grouper decides which candidate a matching item belongs to and builds or
// updates it. It reads the store through a CandidateIndex and never writes:
// the caller persists Outcome.Candidate in the same transaction. A Grouper
// is safe for concurrent use; its only state is a cache of the open
// candidates' title tokens, bounded by their number and checked against
// each candidate on use, so results never depend on it. Candidates passed
// in through the index are modified in place (only by the candidate
// Group returns) and returned.
type Grouper struct {
	cfg config.Candidates
	m   *Matcher
	// mu guards titles. Group holds it for its scan of the open
	// candidates; callers group inside one write transaction at a time, so
	// it is rarely contended.
	mu     sync.Mutex
	titles titleCache
}

// NewGrouper returns a Grouper using cfg and the rules and entities of m
// (for tags, actors, routes and display names). Zero fields of cfg take
// their defaults from config.DefaultCandidates.
func NewGrouper(cfg config.Candidates, m *Matcher) *Grouper {
	d := config.DefaultCandidates()
	if cfg.Window <= 0 {
		cfg.Window = d.Window
	}
	if cfg.TitleSimilarity <= 0 {
		cfg.TitleSimilarity = d.TitleSimilarity
	}
	return &Grouper{cfg: cfg, m: m}
}

// Outcome is what Group decided.
type Outcome struct {
	// Candidate is the new or updated candidate; nil when the item had no
	// matches.
	Candidate *model.Candidate
	// Created is true when the candidate is new.
	Created bool
	// Changed is true when an existing candidate was modified (a new
	// source, match, rule or score); false when the item was already in it.
	Changed bool
	// Events are the alert events the change causes: model.AlertCreated,
	// model.AlertScoreRaised, model.AlertFirstTier1. Decided (closed)
	// candidates never alert.
	Events []string
}

// Group puts the item with its matches into a candidate at time now. The
// item joins the candidate that holds one of its keys (its canonical URL,
// "url:…"; a procurement identifier of its record, "piid:…" and kind-free
// "id:…"; or an identifier its text cites, "id:…"), else the open candidate
// with the most similar title (see titleSimilarity) among those whose
// sources are dated within the window of the item, else a new candidate.
// Group is idempotent: grouping the same item and matches again changes
// nothing. It returns a zero Outcome when ms is empty.
func (g *Grouper) Group(idx CandidateIndex, it model.Item, ms []model.Match, now time.Time) (Outcome, error) {
	if len(ms) == 0 {
		return Outcome{}, nil
	}
	keys := ItemKeys(&it)
	for _, k := range keys {
		c, err := idx.CandidateByKey(k)
		if err != nil {
			return Outcome{}, fmt.Errorf("look up candidate key %s: %w", k, err)
		}
		if c != nil {
			return g.join(c, it, ms, keys, now), nil
		}
	}
	open, err := idx.OpenCandidatesSince(now.Add(-g.cfg.Window))
	if err != nil {
		return Outcome{}, fmt.Errorf("list open candidates: %w", err)
	}
	best := g.mostSimilar(open, it, ms)
	if best != nil {
		return g.join(best, it, ms, keys, now), nil
	}
	return g.create(it, ms, keys, now), nil
}

// mostSimilar returns the open candidate, compatible with the companies
// ms names, having the source whose title is most similar to the item's
// and at least as similar as threshold asks; on a tie the candidate seen
// last, then the first in open. It returns nil when none qualifies.
func (g *Grouper) mostSimilar(open []*model.Candidate, it model.Item, ms []model.Match) *model.Candidate {
	tokens := titleTokens(it.Title)
	if len(tokens) < 2 {
		return nil // titleSimilarity is 0 below two shared words
	}
	firms := companies(ms)
	g.mu.Lock()
	defer g.mu.Unlock()
	defer g.titles.prune(open)
	var best *model.Candidate
	bestSim := 0.0
	for _, c := range open {
		if !c.IsOpen() {
			continue
		}
		ct := g.titles.get(c)
		if !compatible(firms, ct.firms) {
			continue
		}
		if overlap(tokens, ct.all) < 2 {
			continue // no source can reach a similarity above 0
		}
		for i := range ct.distinct {
			d := &ct.distinct[i]
			need, ok := g.threshold(d.day, d.dayOK, it.Published)
			if !ok {
				continue
			}
			sim := titleSimilarity(tokens, d.tokens)
			if sim >= need && (sim > bestSim || sim == bestSim && best != nil && c.LastSeen.After(best.LastSeen)) {
				best, bestSim = c, sim
			}
		}
	}
	return best
}

// companies returns the company entities the matches name.
func companies(ms []model.Match) map[string]bool {
	out := map[string]bool{}
	for _, m := range ms {
		for _, h := range m.Hits {
			if strings.HasPrefix(h.Entity, "company:") {
				out[h.Entity] = true
			}
		}
	}
	return out
}

// compatible reports whether an item naming the companies firms and a
// candidate naming the companies its (from its matches) may report one
// event: either names no company, or they share one. Headlines are
// formulaic ("X wins ICE contract"), so titles alike but for the company
// are two events. It allocates nothing: it runs for every open candidate
// for every item grouped.
func compatible(firms map[string]bool, its []string) bool {
	if len(firms) == 0 || len(its) == 0 {
		return true
	}
	for _, f := range its {
		if firms[f] {
			return true
		}
	}
	return false
}

// threshold returns the title similarity a source dated d (its
// YYYY-MM-DD date parsed; known false when it did not parse) must reach
// for an item published at t to join it: cfg.TitleSimilarity at the edge
// of the window, falling linearly to 60% of it for the same day, since two
// reports of one story cluster in time. ok is false outside the window or
// when either date is unknown.
func (g *Grouper) threshold(d time.Time, known bool, t time.Time) (need float64, ok bool) {
	if !known || t.IsZero() {
		return 0, false
	}
	diff := t.UTC().Truncate(24 * time.Hour).Sub(d)
	if diff < 0 {
		diff = -diff
	}
	if diff > g.cfg.Window {
		return 0, false
	}
	return g.cfg.TitleSimilarity * (0.6 + 0.4*float64(diff)/float64(g.cfg.Window)), true
}

// citedID finds procurement identifiers in text: PIID-like tokens of 10 to
// 40 upper-case letters, digits and hyphens with at least four digits and
// two letters, and SAM.gov notice ids (32 hex digits).
var citedID = regexp.MustCompile(`\b(?:[A-Z0-9][A-Z0-9-]{8,38}[A-Z0-9]|[0-9a-f]{32})\b`)

// ItemKeys returns the grouping keys of an item: "url:"+URL, then each
// record identifier ("piid:…") and its kind-free form ("id:…", upper
// case), then the identifiers its text cites ("id:…").
func ItemKeys(it *model.Item) []string {
	var keys []string
	if it.URL != "" {
		keys = append(keys, "url:"+it.URL)
	}
	for _, id := range it.Record.Identifiers() {
		keys = appendUnique(keys, id)
		_, v, _ := strings.Cut(id, ":")
		keys = appendUnique(keys, "id:"+strings.ToUpper(v))
	}
	for _, f := range []string{it.Title, it.Summary, it.Content} {
		for _, tok := range citedID.FindAllString(f, 16) {
			if looksLikeID(tok) {
				keys = appendUnique(keys, "id:"+strings.ToUpper(tok))
			}
		}
	}
	return keys
}

func looksLikeID(tok string) bool {
	if len(tok) == 32 && strings.Trim(tok, "0123456789abcdef") == "" {
		return true
	}
	var letters, digits int
	for _, r := range tok {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r >= 'A' && r <= 'Z':
			letters++
		}
	}
	return digits >= 4 && letters >= 2
}

func ref(it model.Item) model.Ref {
	return model.Ref{
		URL: it.URL, Title: it.Title, Publisher: it.Publisher, Date: dateOf(it.Published),
		Tier: it.Tier, ItemKey: it.Key, Source: it.Source,
	}
}

func dateOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

func (g *Grouper) create(it model.Item, ms []model.Match, keys []string, now time.Time) Outcome {
	date := dateOf(it.Published)
	if date == "" {
		date = dateOf(now)
	}
	c := &model.Candidate{
		ID:        date + "--" + Slug(it.Title),
		Status:    model.StatusPending,
		Date:      date,
		Title:     it.Title,
		Sources:   []model.Ref{ref(it)},
		FirstSeen: now,
		LastSeen:  now,
		Version:   0,
	}
	g.merge(c, ms, keys)
	c.Score, c.ScoreParts = Score(c, now)
	c.Importance = Importance(c.Score)
	c.AddHistory(model.HistoryEntry{At: now, Kind: "created", Detail: fmt.Sprintf("%s (tier %d), score %.2f", it.Publisher, it.Tier, c.Score)})
	return Outcome{Candidate: c, Created: true, Events: []string{model.AlertCreated}}
}

func (g *Grouper) join(c *model.Candidate, it model.Item, ms []model.Match, keys []string, now time.Time) Outcome {
	out := Outcome{Candidate: c}
	oldTier := c.BestTier()
	oldScore := c.Score
	changed := g.merge(c, ms, keys)
	r := ref(it)
	if !slices.ContainsFunc(c.Sources, func(s model.Ref) bool {
		return s.URL == r.URL && r.URL != "" || r.URL == "" && s.ItemKey == r.ItemKey && s.Source == r.Source
	}) {
		c.Sources = append(c.Sources, r)
		changed = true
		c.AddHistory(model.HistoryEntry{At: now, Kind: "source_added", Detail: fmt.Sprintf("%s (tier %d) %s", r.Publisher, r.Tier, r.URL)})
		if r.Tier.Valid() && (oldTier == 0 || r.Tier < oldTier) {
			c.Title = r.Title // the title comes from the best-tier source
		}
		if r.Date != "" && (c.Date == "" || r.Date < c.Date) {
			c.Date = r.Date // the event is as old as its earliest report
		}
	}
	if !changed {
		return out
	}
	out.Changed = true
	c.LastSeen = now
	c.Score, c.ScoreParts = Score(c, now)
	c.Importance = Importance(c.Score)
	if c.Score != oldScore {
		c.AddHistory(model.HistoryEntry{At: now, Kind: "score_changed", Detail: fmt.Sprintf("%.2f -> %.2f", oldScore, c.Score)})
	}
	if !c.IsOpen() {
		return out
	}
	if oldScore < g.cfg.AlertScore && c.Score >= g.cfg.AlertScore {
		out.Events = append(out.Events, model.AlertScoreRaised)
	}
	if oldTier != 1 && c.BestTier() == 1 {
		out.Events = append(out.Events, model.AlertFirstTier1)
	}
	return out
}

// merge adds matches, rules, tags, actors, routes and keys to c and
// reports whether anything was new.
func (g *Grouper) merge(c *model.Candidate, ms []model.Match, keys []string) bool {
	changed := false
	add := func(s *[]string, v string) {
		if v != "" && !slices.Contains(*s, v) {
			*s = append(*s, v)
			changed = true
		}
	}
	for _, m := range ms {
		if !slices.ContainsFunc(c.Matches, func(o model.Match) bool {
			return o.Rule == m.Rule && o.ItemKey == m.ItemKey && o.Source == m.Source
		}) {
			c.Matches = append(c.Matches, m)
			changed = true
		}
		add(&c.Rules, m.Rule)
		if r, ok := g.m.Rule(m.Rule); ok {
			for _, t := range r.Tags {
				add(&c.Tags, t)
			}
			for _, a := range r.Actors {
				add(&c.Actors, a)
			}
			for _, d := range r.Route {
				add(&c.Routes, d)
			}
		}
		for _, h := range m.Hits {
			if h.Entity != "" && !strings.HasPrefix(h.Entity, "topic:") {
				add(&c.Actors, g.m.EntityName(h.Entity))
			}
		}
	}
	for _, k := range keys {
		add(&c.Keys, k)
	}
	for _, s := range [][]string{c.Rules, c.Tags, c.Actors, c.Routes} {
		slices.Sort(s)
	}
	return changed
}

// Slug returns the id slug of a title: letters folded to lower-case ASCII
// (accents dropped), every other run of characters one "-", at most 60
// characters cut at a hyphen; "event" when nothing is left.
func Slug(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(strings.ToLower(title)) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case unicode.Is(unicode.Mn, r) || r == '\'' || r == '’':
			// accents and apostrophes vanish: "ICE's" is "ices"
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > 60 {
		s = s[:60]
		if i := strings.LastIndexByte(s, '-'); i > 30 {
			s = s[:i]
		}
		s = strings.Trim(s, "-")
	}
	if s == "" {
		return "event"
	}
	return s
}
