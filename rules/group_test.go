package rules

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
)

func groupFixture(t *testing.T) (*Matcher, *Grouper) {
	t.Helper()
	w := testWatch()
	w.Entities = append(w.Entities, config.Entity{ID: "topic:cloud", Aliases: []string{"cloud"}})
	w.Rules[0].Tags = []string{"amazon", "ice"}
	w.Rules[0].Actors = []string{"Jeff Bezos"}
	w.Rules[0].Route = []string{"slack-main"}
	w.Rules[0].Fields = []string{"title", "summary", "vendor", "agency"}
	w.Rules[0].All = append(w.Rules[0].All, config.Clause{Any: []string{"topic:cloud", "contract", "deal", "award"}})
	m, err := NewMatcher(w)
	if err != nil {
		t.Fatal(err)
	}
	return m, NewGrouper(config.Candidates{Window: 7 * 24 * time.Hour, TitleSimilarity: 0.5, AlertScore: 6}, m)
}

var day = func(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

func newsItem(url, title, pub string, tier model.Tier, date string) model.Item {
	return model.Item{Key: "u:" + url, Source: "feed-" + pub, URL: url, Title: title, Publisher: pub, Tier: tier, Published: day(date)}
}

// groupAll runs items through the grouper as the poll cycle would.
func groupAll(t *testing.T, m *Matcher, g *Grouper, idx *memIndex, items ...model.Item) []Outcome {
	t.Helper()
	var outs []Outcome
	for _, it := range items {
		out, err := g.Group(idx, it, m.Match(&it), it.Published)
		if err != nil {
			t.Fatal(err)
		}
		if out.Candidate != nil {
			idx.put(out.Candidate, out.Created)
		}
		outs = append(outs, out)
	}
	return outs
}

func TestGroupCreates(t *testing.T) {
	m, g := groupFixture(t)
	it := newsItem("https://blog.example/a", "Amazon’s cloud deal with ICE draws protest", "Blog", 3, "2025-03-04")
	outs := groupAll(t, m, g, &memIndex{}, it)
	c := outs[0].Candidate
	if !outs[0].Created || !slices.Equal(outs[0].Events, []string{model.AlertCreated}) {
		t.Errorf("outcome = created %v events %v, want created with %s", outs[0].Created, outs[0].Events, model.AlertCreated)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"id", c.ID, "2025-03-04--amazons-cloud-deal-with-ice-draws-protest"},
		{"status", c.Status, model.StatusPending},
		{"date", c.Date, "2025-03-04"},
		{"title", c.Title, it.Title},
		{"actors (no topic entities)", strings.Join(c.Actors, ","), "Amazon,ICE,Jeff Bezos"},
		{"tags", strings.Join(c.Tags, ","), "amazon,ice"},
		{"rules", strings.Join(c.Rules, ","), "amazon-ice"},
		{"routes", strings.Join(c.Routes, ","), "slack-main"},
		{"keys", strings.Join(c.Keys, ","), "url:https://blog.example/a"},
		{"sources", len(c.Sources), 1},
		{"source tier", c.Sources[0].Tier, model.Tier(3)},
		{"score", c.Score, 2.5},
		{"importance", c.Importance, 3},
		{"history", c.History[0].Kind, "created"},
		{"first seen", c.FirstSeen, it.Published},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	if len(c.Matches) != 1 || len(c.Matches[0].Hits) == 0 {
		t.Errorf("matches = %+v, want one match with hits", c.Matches)
	}
}

func TestGroupJoins(t *testing.T) {
	piid := "70CMSD19C00000042"
	record := model.Item{Key: "r1", Source: "usaspending", URL: "https://www.usaspending.gov/award/X", Title: "Cloud contract award",
		Published: day("2025-01-10"), Tier: 1,
		Record: &model.Record{PIID: piid, AgencyPath: []string{"Immigration and Customs Enforcement"}, Vendors: []model.Vendor{{Name: "Amazon Web Services, Inc."}}}}
	tests := []struct {
		name        string
		items       []model.Item
		wantCands   int
		wantSources []int // per candidate, in creation order
	}{
		{"same url twice is idempotent", []model.Item{
			newsItem("https://a.example/1", "Amazon cloud deal with ICE", "A", 2, "2025-01-01"),
			newsItem("https://a.example/1", "Amazon cloud deal with ICE", "A", 2, "2025-01-01"),
		}, 1, []int{1}},
		{"near-duplicate title within window", []model.Item{
			newsItem("https://a.example/1", "Amazon signs cloud deal with ICE", "A", 2, "2025-01-01"),
			newsItem("https://b.example/2", "ICE signs Amazon cloud deal, documents show", "B", 3, "2025-01-03"),
		}, 1, []int{2}},
		{"same title outside the window", []model.Item{
			newsItem("https://a.example/1", "Amazon signs cloud deal with ICE", "A", 2, "2025-01-01"),
			newsItem("https://b.example/2", "Amazon signs cloud deal with ICE", "B", 3, "2025-03-01"),
		}, 2, []int{1, 1}},
		{"different story same day", []model.Item{
			newsItem("https://a.example/1", "Amazon signs cloud deal with ICE", "A", 2, "2025-01-01"),
			newsItem("https://b.example/2", "Protesters block AWS office over ICE contract", "B", 3, "2025-01-01"),
		}, 2, []int{1, 1}},
		{"news citing a PIID joins the record", []model.Item{
			record,
			newsItem("https://c.example/3", "Amazon contract "+piid+" with ICE revealed", "C", 2, "2025-05-01"),
		}, 1, []int{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, g := groupFixture(t)
			idx := &memIndex{}
			outs := groupAll(t, m, g, idx, tt.items...)
			if len(idx.cands) != tt.wantCands {
				t.Fatalf("candidates = %d, want %d", len(idx.cands), tt.wantCands)
			}
			for i, c := range idx.cands {
				if len(c.Sources) != tt.wantSources[i] {
					t.Errorf("candidate %s has %d sources, want %d", c.ID, len(c.Sources), tt.wantSources[i])
				}
			}
			last := outs[len(outs)-1]
			if tt.name == "same url twice is idempotent" && (last.Changed || len(last.Events) > 0 || len(last.Candidate.History) != 1) {
				t.Errorf("regrouping changed the candidate: %+v", last)
			}
		})
	}
}

// TestGroupTier1RaisesScore checks that a tier-1 report joining a tier-3
// candidate raises its score visibly and alerts.
func TestGroupTier1RaisesScore(t *testing.T) {
	m, g := groupFixture(t)
	idx := &memIndex{}
	outs := groupAll(t, m, g, idx,
		newsItem("https://blog.example/a", "Amazon cloud deal with ICE", "Blog", 3, "2025-02-01"),
		newsItem("https://apnews.com/b", "ICE signs Amazon cloud deal", "AP", 1, "2025-02-01"),
	)
	c, out := outs[1].Candidate, outs[1]
	if out.Created || !out.Changed {
		t.Fatalf("outcome created %v changed %v, want a change of the existing candidate", out.Created, out.Changed)
	}
	if !slices.Equal(out.Events, []string{model.AlertScoreRaised, model.AlertFirstTier1}) {
		t.Errorf("events = %v", out.Events)
	}
	if c.Title != "ICE signs Amazon cloud deal" {
		t.Errorf("title = %q, want the tier-1 source's", c.Title)
	}
	var kinds []string
	for _, h := range c.History {
		kinds = append(kinds, h.Kind+":"+h.Detail)
	}
	want := "score_changed:2.50 -> 6.25"
	if !slices.Contains(kinds, want) {
		t.Errorf("history = %q, want an entry %q", kinds, want)
	}
}

func TestGroupClosedCandidateDoesNotAlert(t *testing.T) {
	m, g := groupFixture(t)
	idx := &memIndex{}
	groupAll(t, m, g, idx, newsItem("https://a.example/1", "Amazon cloud deal with ICE", "A", 3, "2025-02-01"))
	idx.cands[0].Status = model.StatusRejected
	it := newsItem("https://a.example/1", "Amazon cloud deal with ICE", "A", 1, "2025-02-01")
	it.Key = "other-key" // same URL, so the key lookup finds the rejected candidate
	out, err := g.Group(idx, it, m.Match(&it), it.Published)
	if err != nil {
		t.Fatal(err)
	}
	if out.Created || len(out.Events) != 0 {
		t.Errorf("outcome = %+v, want no new candidate and no alerts", out)
	}
}

type failingIndex struct{}

func (failingIndex) CandidateByKey(string) (*model.Candidate, error) {
	return nil, errors.New("disk gone")
}
func (failingIndex) OpenCandidatesSince(time.Time) ([]*model.Candidate, error) {
	return nil, errors.New("disk gone")
}

func TestGroupErrorsAndNoMatches(t *testing.T) {
	m, g := groupFixture(t)
	it := newsItem("https://a.example/1", "Amazon cloud deal with ICE", "A", 3, "2025-02-01")
	if _, err := g.Group(failingIndex{}, it, m.Match(&it), it.Published); err == nil || !strings.Contains(err.Error(), "disk gone") {
		t.Errorf("Group error = %v, want the index's error wrapped", err)
	}
	out, err := g.Group(failingIndex{}, it, nil, it.Published)
	if err != nil || out.Candidate != nil {
		t.Errorf("Group without matches = %+v, %v; want zero outcome", out, err)
	}
}

func TestItemKeys(t *testing.T) {
	tests := []struct {
		name string
		it   model.Item
		want []string
	}{
		{"url only", model.Item{URL: "https://x/1", Title: "ICE news in 2025"}, []string{"url:https://x/1"}},
		{"record ids", model.Item{Record: &model.Record{PIID: "70cmsd19c0042", NoticeID: "ab12"}},
			[]string{"notice:ab12", "id:AB12", "piid:70cmsd19c0042", "id:70CMSD19C0042"}},
		{"cited piid and notice id", model.Item{Title: "award HSCETC-15-C-00001 and 0123456789abcdef0123456789abcdef"},
			[]string{"id:HSCETC-15-C-00001", "id:0123456789ABCDEF0123456789ABCDEF"}},
		{"words are not ids", model.Item{Title: "IMMIGRATION ENFORCEMENT 2025-2026"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ItemKeys(&tt.it); !slices.Equal(got, tt.want) {
				t.Errorf("ItemKeys = %q, want %q", got, tt.want)
			}
		})
	}
}
