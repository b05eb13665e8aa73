package rules

import (
	"slices"
	"strings"

	"github.com/tierwatch/tierwatch/model"
)

// eval decides the rule over hits and returns the hits of its positive
// clauses.
func (r *compiledRule) eval(all []rawHit) ([]model.Hit, bool) {
	var in []rawHit
	for _, h := range all {
		if r.fields&(1<<h.field) != 0 {
			in = append(in, h)
		}
	}
	clauseHits := func(cl compiledClause) []rawHit {
		var out, with []rawHit
		for _, h := range in {
			if _, ok := slices.BinarySearch(cl.concepts, h.concept); ok {
				out = append(out, h)
			}
			if _, ok := slices.BinarySearch(cl.with, h.concept); ok {
				with = append(with, h)
			}
		}
		if len(cl.with) == 0 || len(out) == 0 {
			return out
		}
		var kept []rawHit
		for _, h := range out {
			for _, w := range with {
				if w.field == h.field && abs(w.word-h.word) <= cl.near {
					kept = append(kept, h, w)
				}
			}
		}
		return kept
	}
	var used []rawHit
	var allHits [][]rawHit
	for _, cl := range r.all {
		hs := clauseHits(cl)
		if len(hs) == 0 {
			return nil, false
		}
		allHits = append(allHits, hs)
		used = append(used, hs...)
	}
	if r.cfg.Near > 0 && !near(allHits, r.cfg.Near) {
		return nil, false
	}
	if len(r.any) > 0 {
		found := false
		for _, cl := range r.any {
			if hs := clauseHits(cl); len(hs) > 0 {
				found = true
				used = append(used, hs...)
			}
		}
		if !found {
			return nil, false
		}
	}
	for _, cl := range r.none {
		if len(clauseHits(cl)) > 0 {
			return nil, false
		}
	}
	slices.SortFunc(used, func(a, b rawHit) int {
		if a.field != b.field {
			return a.field - b.field
		}
		if a.hit.Start != b.hit.Start {
			return a.hit.Start - b.hit.Start
		}
		return strings.Compare(a.hit.Entity, b.hit.Entity)
	})
	out := make([]model.Hit, 0, len(used))
	for _, h := range used {
		if len(out) > 0 && out[len(out)-1] == h.hit {
			continue
		}
		// Text is a slice of the item's field. A match outlives the item
		// (candidates keep it, and the store caches open candidates), so
		// a shared slice would keep the whole summary or article body
		// alive for a word or two of it.
		h.hit.Text = strings.Clone(h.hit.Text)
		out = append(out, h.hit)
	}
	return out, true
}

// near reports whether one field holds a hit of every clause inside a
// window of n words.
func near(clauses [][]rawHit, n int) bool {
	for _, anchor := range clauses[0] {
		for lo := anchor.word - n; lo <= anchor.word; lo++ {
			ok := true
			for _, hs := range clauses[1:] {
				if !slices.ContainsFunc(hs, func(h rawHit) bool {
					return h.field == anchor.field && h.word >= lo && h.word <= lo+n
				}) {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
	}
	return false
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
