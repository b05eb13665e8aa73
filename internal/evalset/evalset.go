// Package evalset reads the labelled headline set of ../shared/eval
// (dev.jsonl) and measures a monitor's matching and grouping on it the way
// its README describes: per-intent precision, recall and F1 over items,
// traps flagged, and pairwise grouping precision and recall among flagged
// items. It is shared by the rules package's eval test and the end-to-end
// poll-cycle test.
package evalset

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

// Intents are the three labelled intents, named as the rules that express them.
var Intents = []string{"amazon-ice", "dhs-vendors", "biometric-enforcement"}

// Item is one labelled headline (one line of dev.jsonl).
type Item struct {
	ID            string          `json:"id"`
	URL           string          `json:"url"`
	Title         string          `json:"title"`
	Summary       string          `json:"summary"`
	Publisher     string          `json:"publisher"`
	Domain        string          `json:"domain"`
	Published     string          `json:"published"` // YYYY-MM-DD
	PublishedFrom string          `json:"published_from"`
	Tier          *int            `json:"tier"`  // nil when the source carried none
	Event         *string         `json:"event"` // nil: the only item of its event
	Labels        map[string]bool `json:"labels"`
	FoundIn       string          `json:"found_in"`
	Why           string          `json:"why"`
}

// IsTrap reports whether the item is a labelled trap.
func (it Item) IsTrap() bool { return strings.HasPrefix(it.Why, "trap:") }

// EventKey returns the item's event key, "" when null.
func (it Item) EventKey() string {
	if it.Event == nil {
		return ""
	}
	return *it.Event
}

// Date returns Published as a UTC time (zero when malformed).
func (it Item) Date() time.Time {
	t, err := time.Parse(time.DateOnly, it.Published)
	if err != nil {
		return time.Time{}
	}
	return t
}

// ModelItem returns the item as a feed item would arrive: title, summary,
// canonical URL, publisher, domain and date; Source is the domain, Key
// "u:"+URL, and Tier the labelled tier or 0 (the caller resolves it).
func (it Item) ModelItem() model.Item {
	m := model.Item{
		Key: "u:" + it.URL, Source: it.Domain, URL: it.URL, Link: it.URL,
		Title: it.Title, Summary: it.Summary, Publisher: it.Publisher, Domain: it.Domain,
		Published: it.Date(), DateSource: "published", FirstSeen: it.Date(),
	}
	if it.Tier != nil {
		m.Tier = model.Tier(*it.Tier)
	}
	return m
}

// Load reads a dev.jsonl file. Blank lines are skipped; a malformed line
// or a duplicate id is an error naming its line.
func Load(path string) ([]Item, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open eval set: %w", err)
	}
	defer f.Close() // read-only: a close error changes nothing
	var items []Item
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var it Item
		if err := json.Unmarshal([]byte(line), &it); err != nil {
			return nil, fmt.Errorf("read eval set %s line %d: %w", path, n, err)
		}
		if it.ID == "" || seen[it.ID] {
			return nil, fmt.Errorf("read eval set %s line %d: missing or duplicate id %q", path, n, it.ID)
		}
		seen[it.ID] = true
		items = append(items, it)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read eval set %s: %w", path, err)
	}
	return items, nil
}

// Result is what a monitor did with one item: the rules that matched it
// and the candidate it was put in ("" when none).
type Result struct {
	Rules     []string
	Candidate string
}

// Counts are the confusion counts of one intent.
type Counts struct {
	TP, FP, FN int
	// FalsePos and FalseNeg list the item ids of the errors.
	FalsePos, FalseNeg []string
}

// Precision is TP/(TP+FP), 1 when nothing was flagged.
func (c Counts) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }

// Recall is TP/(TP+FN), 1 when nothing was labelled true.
func (c Counts) Recall() float64 { return ratio(c.TP, c.TP+c.FN) }

// F1 is the harmonic mean of precision and recall.
func (c Counts) F1() float64 {
	p, r := c.Precision(), c.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// Pairs are pairwise grouping counts.
type Pairs struct {
	True, Predicted, Both int
}

// Precision is the share of predicted pairs that are true pairs.
func (p Pairs) Precision() float64 { return ratio(p.Both, p.Predicted) }

// Recall is the share of true pairs that were predicted.
func (p Pairs) Recall() float64 { return ratio(p.Both, p.True) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// Report holds the figures of one measurement.
type Report struct {
	Intents map[string]Counts
	// Traps lists the trap items flagged for any intent.
	Traps []string
	// Grouping is measured among flagged items; GroupingTrue among items
	// with a true label (grouping apart from matching errors).
	Grouping, GroupingTrue Pairs
	// Candidates is the number of distinct candidates built from flagged items.
	Candidates int
}

// Measure compares results (keyed by item id; absent means not flagged)
// with the labels of items.
func Measure(items []Item, results map[string]Result) Report {
	rep := Report{Intents: map[string]Counts{}}
	var flagged, positive []Item
	cands := map[string]bool{}
	for _, it := range items {
		res := results[it.ID]
		for _, in := range Intents {
			c := rep.Intents[in]
			got, want := slices.Contains(res.Rules, in), it.Labels[in]
			switch {
			case got && want:
				c.TP++
			case got:
				c.FP++
				c.FalsePos = append(c.FalsePos, it.ID)
			case want:
				c.FN++
				c.FalseNeg = append(c.FalseNeg, it.ID)
			}
			rep.Intents[in] = c
		}
		anyRule := slices.ContainsFunc(res.Rules, func(r string) bool { return slices.Contains(Intents, r) })
		if anyRule {
			flagged = append(flagged, it)
			cands[res.Candidate] = true
			if it.IsTrap() {
				rep.Traps = append(rep.Traps, it.ID)
			}
		}
		for _, in := range Intents {
			if it.Labels[in] {
				positive = append(positive, it)
				break
			}
		}
	}
	rep.Candidates = len(cands)
	rep.Grouping = pairs(flagged, results)
	rep.GroupingTrue = pairs(positive, results)
	return rep
}

func pairs(items []Item, results map[string]Result) Pairs {
	var p Pairs
	for i := range items {
		for j := i + 1; j < len(items); j++ {
			a, b := items[i], items[j]
			isTrue := a.EventKey() != "" && a.EventKey() == b.EventKey()
			ca, cb := results[a.ID].Candidate, results[b.ID].Candidate
			isPred := ca != "" && ca == cb
			if isTrue {
				p.True++
			}
			if isPred {
				p.Predicted++
			}
			if isTrue && isPred {
				p.Both++
			}
		}
	}
	return p
}

// String formats the report as a small table.
func (r Report) String() string {
	var b strings.Builder
	for _, in := range Intents {
		c := r.Intents[in]
		fmt.Fprintf(&b, "%-22s P=%.3f R=%.3f F1=%.3f (tp %d fp %d fn %d)\n", in, c.Precision(), c.Recall(), c.F1(), c.TP, c.FP, c.FN)
	}
	fmt.Fprintf(&b, "traps flagged: %d %v\n", len(r.Traps), r.Traps)
	fmt.Fprintf(&b, "grouping (flagged): P=%.3f R=%.3f (pairs true %d predicted %d both %d), %d candidates\n",
		r.Grouping.Precision(), r.Grouping.Recall(), r.Grouping.True, r.Grouping.Predicted, r.Grouping.Both, r.Candidates)
	fmt.Fprintf(&b, "grouping (true labels): P=%.3f R=%.3f (pairs true %d predicted %d both %d)",
		r.GroupingTrue.Precision(), r.GroupingTrue.Recall(), r.GroupingTrue.True, r.GroupingTrue.Predicted, r.GroupingTrue.Both)
	return b.String()
}
