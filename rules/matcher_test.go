package rules

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
)

// testWatch is a small watch section exercising every feature.
func testWatch() config.Watch {
	return config.Watch{
		Entities: []config.Entity{
			{ID: "company:amazon", Name: "Amazon", Aliases: []string{"Amazon", "Amazon Web Services"}, Cased: []string{"AWS"},
				Exclude: []string{"Amazon River", "rainforest"}},
			{ID: "agency:ice", Name: "ICE", Aliases: []string{"Immigration and Customs Enforcement"}, Cased: []string{"ICE"},
				Exclude: []string{"ICE futures", "ice cold"}},
			{ID: "agency:cbp", Name: "CBP", Cased: []string{"CBP"}},
			{ID: "company:palantir", Name: "Palantir", Aliases: []string{"Palantir"}, UEI: []string{"PALANTIR123"}, CAGE: []string{"1AB23"}},
		},
		Groups: []config.Group{{ID: "agency:dhs", Members: []string{"agency:ice", "agency:cbp"}}},
		Rules: []config.Rule{
			{Name: "amazon-ice", Fields: []string{"title", "summary"},
				All: []config.Clause{{Any: []string{"company:amazon"}}, {Any: []string{"agency:dhs", "deport*"}}}},
			{Name: "amazon-ice-near", Fields: []string{"title"}, Near: 3,
				All: []config.Clause{{Any: []string{"company:amazon"}}, {Any: []string{"agency:ice"}}}},
			{Name: "palantir-dhs", Fields: []string{"vendor", "agency", "title"},
				All:  []config.Clause{{Any: []string{"company:palantir"}}, {Any: []string{"agency:dhs", "homeland security"}}},
				None: []config.Clause{{Any: []string{"stock", "shares"}}}},
			{Name: "social-media", Fields: []string{"title"},
				Any: []config.Clause{{Any: []string{"social media"}, With: []string{"monitor*", "screen*"}, Near: 3}}},
		},
	}
}

func ruleNames(ms []model.Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Rule)
	}
	return out
}

func TestMatch(t *testing.T) {
	m, err := NewMatcher(testWatch())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		item model.Item
		want []string
	}{
		{"plain, four words apart", model.Item{Title: "Amazon sells cloud to ICE"}, []string{"amazon-ice"}},
		{"possessive", model.Item{Title: "Amazon's deal with ICE"}, []string{"amazon-ice", "amazon-ice-near"}},
		{"curly possessive", model.Item{Title: "ICE renews Amazon’s contract"}, []string{"amazon-ice", "amazon-ice-near"}},
		{"ice cream is not ICE", model.Item{Title: "Amazon recalls ice cream"}, nil},
		{"Ice Age is not ICE", model.Item{Title: "Amazon streams Ice Age"}, nil},
		{"ICE-cold is not ICE", model.Item{Title: "Amazon ships ICE-cold drinks"}, nil},
		{"ICE futures excluded", model.Item{Title: "Amazon shares and ICE futures rally"}, nil},
		{"Amazon River excluded", model.Item{Title: "ICE agents on the Amazon River"}, nil},
		{"rainforest near Amazon excluded", model.Item{Title: "deportation flights over the vast Amazon rainforest"}, nil},
		{"rainforest far away keeps Amazon", model.Item{Title: "Amazon deportation contract criticised by groups that also defend the rainforest"}, []string{"amazon-ice"}},
		{"cased alias", model.Item{Title: "AWS hosts ICE data"}, []string{"amazon-ice", "amazon-ice-near"}},
		{"cased alias wrong case", model.Item{Title: "aws hosts ICE data"}, nil},
		{"group member and prefix term", model.Item{Title: "Amazon fuels deportations"}, []string{"amazon-ice"}},
		{"word boundary", model.Item{Title: "Amazonian tribes fear CBP"}, nil},
		{"near: too far apart", model.Item{Title: "Amazon workers, after a long and heated debate, protest ICE"}, []string{"amazon-ice"}},
		{"fields: content not read", model.Item{Title: "Amazon news", Content: "ICE contract"}, nil},
		{"fields: summary read", model.Item{Title: "Amazon news", Summary: "with ICE"}, []string{"amazon-ice"}},
		{"none clause", model.Item{Title: "Palantir shares rise on ICE deal"}, nil},
		{"any clause with near", model.Item{Title: "USCIS to screen immigrants' social media"}, []string{"social-media"}},
		{"with term too far", model.Item{Title: "screen time and the many effects of social media"}, nil},
		{"uei on a record", model.Item{Title: "Award", Record: &model.Record{
			AgencyPath: []string{"Department of Homeland Security", "U.S. Immigration and Customs Enforcement"},
			Vendors:    []model.Vendor{{Name: "PT LLC", UEI: " palantir123 "}}}}, []string{"palantir-dhs"}},
		{"cage on a record", model.Item{Title: "Award", Record: &model.Record{
			AgencyPath: []string{"U.S. Customs and Border Protection"},
			Vendors:    []model.Vendor{{Name: "X", CAGE: "1AB23"}}}}, nil}, // agency text names no CBP alias
		{"vendor name on a record", model.Item{Title: "Award", Record: &model.Record{
			AgencyPath: []string{"Department of Homeland Security"},
			Vendors:    []model.Vendor{{Name: "Palantir USG Inc."}}}}, []string{"palantir-dhs"}},
		{"empty item", model.Item{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ruleNames(m.Match(&tt.item))
			if !slices.Equal(got, tt.want) {
				t.Errorf("Match(%q) rules = %v, want %v", tt.item.Title, got, tt.want)
			}
		})
	}
}

// TestMatchHits checks that hits explain the match with offsets into the
// field's own text.
func TestMatchHits(t *testing.T) {
	m, err := NewMatcher(testWatch())
	if err != nil {
		t.Fatal(err)
	}
	it := model.Item{Key: "k1", Source: "s1", Title: "“Abolish ICE”: Amazon’s  role", Summary: "deported"}
	ms := m.Match(&it)
	if len(ms) == 0 || ms[0].Rule != "amazon-ice" {
		t.Fatalf("matches = %v, want amazon-ice first", ruleNames(ms))
	}
	want := []model.Hit{
		{Term: "ICE", Entity: "agency:ice", Field: "title", Start: 11, End: 14, Text: "ICE"},
		{Term: "Amazon", Entity: "company:amazon", Field: "title", Start: 19, End: 25, Text: "Amazon"},
		{Term: "deport*", Field: "summary", Start: 0, End: 6, Text: "deport"},
	}
	if !slices.Equal(ms[0].Hits, want) {
		t.Errorf("hits = %+v\nwant %+v", ms[0].Hits, want)
	}
	for _, h := range ms[0].Hits {
		src := map[string]string{"title": it.Title, "summary": it.Summary}[h.Field]
		if src[h.Start:h.End] != h.Text {
			t.Errorf("hit %+v: field text at offsets is %q", h, src[h.Start:h.End])
		}
	}
	if ms[0].ItemKey != "k1" || ms[0].Source != "s1" || ms[0].Weight != 1 {
		t.Errorf("match = %+v, want item key, source and weight 1", ms[0])
	}
	uei := m.Match(&model.Item{Record: &model.Record{AgencyPath: []string{"DHS"}, Vendors: []model.Vendor{{UEI: "PALANTIR123"}}}})
	if len(uei) != 0 { // "DHS" is no alias in testWatch, so the agency side is missing
		t.Errorf("uei without agency matched %v", ruleNames(uei))
	}
}

// TestMatchHitsOwnTheirText checks that a hit's Text is a copy, not a
// slice of the item's field: candidates keep matches long after the item
// is gone, and a slice would keep the whole field (a summary, an article
// body) in memory for the few words it shows.
func TestMatchHitsOwnTheirText(t *testing.T) {
	m, err := NewMatcher(testWatch())
	if err != nil {
		t.Fatal(err)
	}
	it := model.Item{Key: "k1", Source: "s1", Title: "Amazon and ICE",
		Summary: strings.Repeat("filler text ", 500) + "deported by ICE with Amazon Web Services"}
	ms := m.Match(&it)
	if len(ms) == 0 {
		t.Fatal("no match")
	}
	within := func(sub, s string) bool {
		if len(sub) == 0 || len(s) == 0 {
			return false
		}
		p, lo := uintptr(unsafe.Pointer(unsafe.StringData(sub))), uintptr(unsafe.Pointer(unsafe.StringData(s)))
		return p >= lo && p < lo+uintptr(len(s))
	}
	var n int
	for _, mt := range ms {
		for _, h := range mt.Hits {
			n++
			if within(h.Text, it.Title) || within(h.Text, it.Summary) {
				t.Errorf("rule %s: hit %q shares the memory of the item's %s", mt.Rule, h.Text, h.Field)
			}
		}
	}
	if n == 0 {
		t.Fatal("matches without hits")
	}
}

func TestNewMatcherRejectsInvalid(t *testing.T) {
	w := testWatch()
	w.Rules[0].All[0].Any = []string{"company:nope"}
	if _, err := NewMatcher(w); err == nil || !strings.Contains(err.Error(), "rules[0].all[0].any[0]") {
		t.Errorf("NewMatcher error = %v, want the unknown reference's path", err)
	}
}

func TestMatchConcurrent(t *testing.T) {
	m, err := NewMatcher(testWatch())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				if got := ruleNames(m.Match(&model.Item{Title: "AWS hosts ICE data"})); len(got) != 2 {
					t.Errorf("concurrent Match = %v", got)
					return
				}
			}
		})
	}
	wg.Wait()
}
