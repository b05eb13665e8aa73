package rules

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

// TestTitleCacheFollowsCandidate checks that cached tokens always match
// the candidate's current sources, however they changed between uses.
func TestTitleCacheFollowsCandidate(t *testing.T) {
	src := func(title, date string) model.Ref { return model.Ref{Title: title, Date: date} }
	tests := []struct {
		name   string
		before []model.Ref
		after  []model.Ref
	}{
		{"unchanged", []model.Ref{src("Amazon wins ICE deal", "2025-01-01")}, []model.Ref{src("Amazon wins ICE deal", "2025-01-01")}},
		{"source appended", []model.Ref{src("Amazon wins ICE deal", "2025-01-01")},
			[]model.Ref{src("Amazon wins ICE deal", "2025-01-01"), src("ICE signs AWS cloud pact", "2025-01-02")}},
		{"sources replaced by a split", []model.Ref{src("Amazon wins ICE deal", "2025-01-01"), src("ICE signs AWS cloud pact", "2025-01-02")},
			[]model.Ref{src("Palantir renews ICE license", "2025-01-03")}},
		{"same count, other title", []model.Ref{src("Amazon wins ICE deal", "2025-01-01")}, []model.Ref{src("Palantir renews ICE license", "2025-01-01")}},
		{"same title, other date", []model.Ref{src("Amazon wins ICE deal", "2025-01-01")}, []model.Ref{src("Amazon wins ICE deal", "bad date")}},
		{"all sources removed by a merge", []model.Ref{src("Amazon wins ICE deal", "2025-01-01")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tc titleCache
			c := &model.Candidate{ID: "c1", Sources: tt.before}
			tc.get(c)
			c.Sources = tt.after
			got := tc.get(c)
			// The sources of every case have distinct titles and dates.
			if len(got.titles) != len(tt.after) || len(got.distinct) != len(tt.after) {
				t.Fatalf("cached %d sources, %d distinct, want %d", len(got.titles), len(got.distinct), len(tt.after))
			}
			var all []string
			for i, s := range tt.after {
				want := titleTokens(s.Title)
				d := got.distinct[i]
				if d.index != i {
					t.Errorf("distinct source %d has index %d", i, d.index)
				}
				if !slices.Equal(d.tokens, want) {
					t.Errorf("source %d tokens = %q, want %q", i, d.tokens, want)
				}
				if day, err := time.Parse(time.DateOnly, s.Date); d.dayOK != (err == nil) || !d.day.Equal(day) {
					t.Errorf("source %d date %q = %v, %t; want %v, %t", i, s.Date, d.day, d.dayOK, day, err == nil)
				}
				all = union(nil, all, want)
			}
			if !slices.Equal(got.all, all) {
				t.Errorf("union = %q, want %q", got.all, all)
			}
		})
	}
}

// TestTitleCachePrune checks that the cache shrinks to the open candidates
// once it holds far more, and keeps every open one.
func TestTitleCachePrune(t *testing.T) {
	var tc titleCache
	var open []*model.Candidate
	for i := range 400 {
		c := &model.Candidate{ID: fmt.Sprint("c", i), Sources: []model.Ref{{Title: "Amazon wins ICE deal", Date: "2025-01-01"}}}
		tc.get(c)
		if i%4 == 0 {
			open = append(open, c)
		}
	}
	tc.prune(open[:50]) // 400 > 2*50+256
	if len(tc.entries) != 50 {
		t.Errorf("after prune %d entries, want 50", len(tc.entries))
	}
	for _, c := range open[:50] {
		if tc.entries[c.ID] == nil {
			t.Errorf("open candidate %s pruned", c.ID)
		}
	}
	tc.prune(nil) // 50 <= 256: no prune yet
	if len(tc.entries) != 50 {
		t.Errorf("prune below the slack left %d entries, want 50", len(tc.entries))
	}
}

// TestGroupConcurrent groups items from several goroutines through one
// Grouper, each into its own index, as concurrent polls do; run with -race.
// Every goroutine must end with the same candidates as a serial run.
func TestGroupConcurrent(t *testing.T) {
	m, g := groupFixture(t)
	items := []model.Item{
		newsItem("https://a.example/1", "Amazon signs cloud deal with ICE", "A", 2, "2025-01-01"),
		newsItem("https://b.example/2", "ICE signs Amazon cloud deal, documents show", "B", 3, "2025-01-02"),
		newsItem("https://c.example/3", "Protesters block AWS office over ICE contract", "C", 3, "2025-01-02"),
		newsItem("https://d.example/4", "AWS office protest over ICE contract grows", "D", 1, "2025-01-03"),
	}
	summary := func(idx *memIndex) string {
		var s []string
		for _, c := range idx.cands {
			s = append(s, fmt.Sprintf("%s:%d", c.ID, len(c.Sources)))
		}
		return fmt.Sprint(s)
	}
	serial := &memIndex{}
	groupAll(t, m, g, serial, items...)
	want := summary(serial)
	if len(serial.cands) != 2 {
		t.Fatalf("serial run made %s, want two candidates", want)
	}
	var wg sync.WaitGroup
	got := make([]string, 4)
	for i := range got {
		wg.Go(func() {
			idx := &memIndex{}
			for _, it := range items {
				out, err := g.Group(idx, it, m.Match(&it), it.Published)
				if err != nil {
					got[i] = err.Error()
					return
				}
				idx.put(out.Candidate, out.Created)
			}
			got[i] = summary(idx)
		})
	}
	wg.Wait()
	for i, s := range got {
		if s != want {
			t.Errorf("goroutine %d made %s, want %s", i, s, want)
		}
	}
}

func TestTitleSimilarity(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want float64
	}{
		{"same words reordered", "Amazon signs cloud deal with ICE", "ICE signs Amazon cloud deal", 1},
		{"short headline inside a long one", "Amazon ICE deal", "Amazon signs ICE deal after months of talks", 1},
		{"inflections agree", "Workers protested ICE contracts", "Worker protests over ICE contract", 1},
		{"one shared name is not enough", "Amazon earnings beat forecasts", "Amazon warehouse strike spreads", 0},
		{"two of four", "Amazon ICE cloud deal", "Amazon ICE protest march", 0.5},
		{"stopwords only", "the and of", "the and of", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := titleSimilarity(titleTokens(tt.a), titleTokens(tt.b)); got != tt.want {
				t.Errorf("titleSimilarity(%q, %q) = %v, want %v (tokens %q, %q)", tt.a, tt.b, got, tt.want, titleTokens(tt.a), titleTokens(tt.b))
			}
		})
	}
}

// TestTitleCacheFollowsMatches checks that the companies the cache keeps
// for a candidate are those its current matches name, however they
// changed, and that syndicated copies (same title and date) are compared
// once.
func TestTitleCacheFollowsMatches(t *testing.T) {
	match := func(item string, entities ...string) model.Match {
		m := model.Match{Rule: "dhs-vendors", ItemKey: item, Source: "feed"}
		for _, e := range entities {
			m.Hits = append(m.Hits, model.Hit{Term: e, Entity: e, Field: "title"})
		}
		return m
	}
	tests := []struct {
		name          string
		before, after []model.Match
		want          []string
	}{
		{"unchanged", []model.Match{match("a", "company:amazon", "agency:ice")}, []model.Match{match("a", "company:amazon", "agency:ice")},
			[]string{"company:amazon"}},
		{"match appended", []model.Match{match("a", "company:amazon")},
			[]model.Match{match("a", "company:amazon"), match("b", "company:palantir", "company:amazon")},
			[]string{"company:amazon", "company:palantir"}},
		{"matches replaced by a split", []model.Match{match("a", "company:amazon")}, []model.Match{match("b", "company:palantir")},
			[]string{"company:palantir"}},
		{"all matches removed", []model.Match{match("a", "company:amazon")}, nil, nil},
		{"no company", nil, []model.Match{match("a", "agency:ice", "topic:biometrics")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tc titleCache
			c := &model.Candidate{ID: "c1", Matches: tt.before}
			tc.get(c)
			c.Matches = tt.after
			if got := tc.get(c).firms; !slices.Equal(got, tt.want) {
				t.Errorf("firms = %q, want %q", got, tt.want)
			}
		})
	}

	src := func(title, date string) model.Ref { return model.Ref{Title: title, Date: date} }
	var tc titleCache
	c := &model.Candidate{ID: "c2", Sources: []model.Ref{src("Amazon wins ICE deal", "2025-01-01"),
		src("Amazon wins ICE deal", "2025-01-01"), src("Amazon wins ICE deal", "2025-01-02"), src("ICE signs AWS pact", "2025-01-01")}}
	tc.get(c)
	c.Sources = append(c.Sources, src("Amazon wins ICE deal", "2025-01-02"), src("AWS pact", "2025-01-03"))
	var got []int
	for _, d := range tc.get(c).distinct {
		got = append(got, d.index)
		if want := titleTokens(c.Sources[d.index].Title); !slices.Equal(d.tokens, want) {
			t.Errorf("distinct source %d tokens = %q, want %q", d.index, d.tokens, want)
		}
	}
	if want := []int{0, 2, 3, 5}; !slices.Equal(got, want) {
		t.Errorf("distinct = %v, want %v", got, want)
	}
}
