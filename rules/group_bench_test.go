package rules

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
)

// keyIndex is a CandidateIndex with the store's cost model: key lookups
// through a map, open candidates as one shared slice.
type keyIndex struct {
	byKey map[string]*model.Candidate
	open  []*model.Candidate
}

func (x *keyIndex) CandidateByKey(key string) (*model.Candidate, error) { return x.byKey[key], nil }

func (x *keyIndex) OpenCandidatesSince(time.Time) ([]*model.Candidate, error) { return x.open, nil }

// benchOpen builds n open candidates of formulaic headlines ("Amazon wins
// ICE cloud contract in Ohio"), each with four sources, by grouping them
// with g so they carry real matches.
func benchOpen(b *testing.B, m *Matcher, g *Grouper, n int) *keyIndex {
	b.Helper()
	r := rand.New(rand.NewPCG(8, uint64(n)))
	firms := []string{"Amazon", "Palantir", "AWS"}
	verbs := []string{"wins", "loses", "signs", "bids for", "protests", "renews"}
	things := []string{"cloud", "detention", "data", "biometric", "records", "camera", "analytics", "border"}
	places := []string{"Ohio", "Texas", "Oregon", "Maine", "Utah", "Idaho", "Iowa", "Nevada", "Georgia", "Vermont"}
	idx := &keyIndex{byKey: map[string]*model.Candidate{}}
	now := day("2025-06-10")
	for i := range n {
		title := fmt.Sprintf("%s %s ICE %s contract in %s worth %d million", firms[r.IntN(len(firms))],
			verbs[r.IntN(len(verbs))], things[r.IntN(len(things))], places[r.IntN(len(places))], i)
		var c *model.Candidate
		for s := range 4 {
			it := newsItem(fmt.Sprintf("https://n%d.example/%d", s, i), title, fmt.Sprintf("P%d", s), model.Tier(1+s%3), "2025-06-09")
			ms := m.Match(&it)
			if len(ms) == 0 {
				b.Fatalf("no match for %q", title)
			}
			var out Outcome
			if c == nil {
				out = g.create(it, ms, ItemKeys(&it), now)
				out.Candidate.ID += fmt.Sprint("-", i) // unique, as the store makes it
			} else {
				out = g.join(c, it, ms, ItemKeys(&it), now)
			}
			c = out.Candidate
			for _, k := range c.Keys {
				idx.byKey[k] = c
			}
		}
		idx.open = append(idx.open, c)
	}
	return idx
}

// BenchmarkGroup measures Grouper.Group of one matching item against n
// open candidates that all share its company and agency: "new" is a title
// no candidate resembles (every candidate scanned, a new one built), "join"
// one that joins a candidate already holding it (as a re-poll does).
func BenchmarkGroup(b *testing.B) {
	m, err := NewMatcher(testWatch())
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{100, 1000, 5000} {
		g := NewGrouper(config.Candidates{Window: 7 * 24 * time.Hour, TitleSimilarity: 0.5, AlertScore: 6}, m)
		idx := benchOpen(b, m, g, n)
		now := day("2025-06-10")
		fresh := newsItem("https://x.example/new", "Amazon shareholders question ICE ties at annual meeting", "X", 2, "2025-06-10")
		freshMs := m.Match(&fresh)
		joiner := newsItem("https://y.example/join", idx.open[n/2].Title+" (update)", "Y", 2, "2025-06-10")
		joinMs := m.Match(&joiner)
		for _, tc := range []struct {
			name string
			it   model.Item
			ms   []model.Match
		}{{"new", fresh, freshMs}, {"join", joiner, joinMs}} {
			b.Run(fmt.Sprintf("open=%d/%s", n, tc.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					out, err := g.Group(idx, tc.it, tc.ms, now)
					if err != nil || out.Candidate == nil || out.Created != (tc.name == "new") {
						b.Fatalf("Group = %+v, %v", out, err)
					}
				}
			})
		}
	}
}
