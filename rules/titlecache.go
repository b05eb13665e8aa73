package rules

import (
	"slices"
	"strings"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

// titleCache keeps, per open candidate, what Group compares of its sources
// (title tokens and parsed dates), so a candidate's titles are tokenised
// when it first appears or gains a source, not once for every item grouped
// while it is open: that rescan made grouping cost items × open candidates
// × sources tokenisations (17% of a 10,000-feed cold cycle's CPU).
//
// Entries are keyed by candidate ID and checked against the candidate on
// every use, so they are never stale: the store hands out shared pointers
// that the grouper and review modify (sources appended, or replaced by a
// merge or split). An entry is extended when the candidate's sources start
// with the cached ones and rebuilt otherwise. A titleCache is not safe for
// concurrent use; Grouper guards it with its mutex.
type titleCache struct {
	entries map[string]*candTitles
}

// candTitles is the cached view of one candidate's sources and matches.
//
// It keeps per source only the title and date (to see that the sources
// still start with those cached), and tokens and a parsed date only per
// distinct title and date: candidates of a busy story gather hundreds of
// syndicated copies, and keeping tokens for each made the cache a sixth of
// the live heap at the end of a 10,000-feed cold cycle.
type candTitles struct {
	titles []string // Sources[i].Title when cached
	dates  []string // Sources[i].Date when cached
	// all is the union of tokens: a candidate sharing fewer than two
	// words with an item has no source it can join (see titleSimilarity).
	all []string
	// distinct are the sources whose title and date no earlier source
	// has, in order: syndicated copies of one story share both, and
	// comparing an item with each copy gives the same answer.
	distinct []distinctTitle
	seen     map[titleDate]bool // title and date of the sources cached

	// matches identify Matches[i] when cached; a match's hits are a
	// function of its item, so rule, item and source identify it.
	matches []matchID
	// firms are the company entities the matches name (see
	// compatible), sorted.
	firms []string
}

// distinctTitle is what Group compares of a source whose title and date
// no earlier source of its candidate has.
type distinctTitle struct {
	index  int       // in Sources
	tokens []string  // titleTokens of the title
	day    time.Time // the date parsed
	dayOK  bool      // whether the date parsed
}

type titleDate struct{ title, date string }

type matchID struct{ rule, itemKey, source string }

// get returns the current view of c's sources, updating the cache.
func (tc *titleCache) get(c *model.Candidate) *candTitles {
	if tc.entries == nil {
		tc.entries = map[string]*candTitles{}
	}
	e := tc.entries[c.ID]
	if e == nil || !e.prefixOf(c.Sources) || !e.matchPrefixOf(c.Matches) {
		e = &candTitles{seen: map[titleDate]bool{}}
		tc.entries[c.ID] = e
	}
	for _, s := range c.Sources[len(e.titles):] {
		if k := (titleDate{s.Title, s.Date}); !e.seen[k] {
			e.seen[k] = true
			toks := titleTokens(s.Title)
			d, err := time.Parse(time.DateOnly, s.Date)
			e.distinct = append(e.distinct, distinctTitle{index: len(e.titles), tokens: toks, day: d, dayOK: err == nil})
			e.all = union(make([]string, 0, len(e.all)+len(toks)), e.all, toks)
		}
		e.titles = append(e.titles, s.Title)
		e.dates = append(e.dates, s.Date)
	}
	for _, m := range c.Matches[len(e.matches):] {
		e.matches = append(e.matches, matchID{m.Rule, m.ItemKey, m.Source})
		for _, h := range m.Hits {
			if strings.HasPrefix(h.Entity, "company:") {
				if i, found := slices.BinarySearch(e.firms, h.Entity); !found {
					e.firms = slices.Insert(e.firms, i, h.Entity)
				}
			}
		}
	}
	return e
}

// matchPrefixOf reports whether the cached matches are the first of ms.
func (e *candTitles) matchPrefixOf(ms []model.Match) bool {
	if len(e.matches) > len(ms) {
		return false
	}
	for i, id := range e.matches {
		if m := &ms[i]; m.Rule != id.rule || m.ItemKey != id.itemKey || m.Source != id.source {
			return false
		}
	}
	return true
}

// prefixOf reports whether the cached sources are the first ones of srcs.
// Titles and dates of one stored candidate share their bytes between
// copies, so the comparisons are mostly pointer checks.
func (e *candTitles) prefixOf(srcs []model.Ref) bool {
	if len(e.titles) > len(srcs) {
		return false
	}
	for i, t := range e.titles {
		if srcs[i].Title != t || srcs[i].Date != e.dates[i] {
			return false
		}
	}
	return true
}

// prune drops the entries of candidates not in open once the cache holds
// more than twice as many entries as there are open candidates (plus
// slack), so it stays proportional to the open candidates: closed ones and
// those aged out of the window go, at an amortised cost of O(1) per call.
func (tc *titleCache) prune(open []*model.Candidate) {
	if len(tc.entries) <= 2*len(open)+256 {
		return
	}
	keep := make(map[string]bool, len(open))
	for _, c := range open {
		keep[c.ID] = true
	}
	for id := range tc.entries {
		if !keep[id] {
			delete(tc.entries, id)
		}
	}
}
