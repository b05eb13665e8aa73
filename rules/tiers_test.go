package rules

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
)

func TestTiersResolve(t *testing.T) {
	tiers := NewTiers(config.Tiers{Unknown: 3, Publishers: []config.PublisherTier{
		{Name: "Local Watchdog", Aliases: []string{"LW News"}, Domains: []string{"watchdog.example"}, Tier: 2},
		{Name: "CNBC", Tier: 1}, // overrides the shipped majority (tier 2)
	}})
	tests := []struct {
		name, publisher, domain string
		wantName                string
		wantTier                model.Tier
	}{
		{"shipped name", "NPR", "", "NPR", 1},
		{"name variant folded", "the white house", "", "The White House", 1},
		{"name variant punctuation", "White House.", "", "The White House", 1},
		{"shipped majority", "Axios", "", "Axios", 2},
		{"tie goes to the less trusted tier", "CNN Business", "", "CNN Business", 2},
		{"shipped domain", "", "reuters.com", "reuters.com", 1},
		{"subdomain", "CNN", "transcripts.cnn.com", "CNN", 1},
		{"gov domain", "Some Agency", "dhs.gov", "Some Agency", 1},
		{"mil domain", "", "army.mil", "army.mil", 1},
		{"edu domain", "A Lab", "cs.stanford.edu", "A Lab", 1},
		{"config name override", "cnbc", "", "CNBC", 1},
		{"config alias", "LW news", "", "Local Watchdog", 2},
		{"config domain beats gov rule", "", "news.watchdog.example", "Local Watchdog", 2},
		{"unknown", "Some Blog", "someblog.example", "Some Blog", 3},
		{"nothing given", "", "", "", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, tier := tiers.Resolve(tt.publisher, tt.domain)
			if name != tt.wantName || tier != tt.wantTier {
				t.Errorf("Resolve(%q, %q) = %q, %d; want %q, %d", tt.publisher, tt.domain, name, tier, tt.wantName, tt.wantTier)
			}
		})
	}
	if _, tier := NewTiers(config.Tiers{}).Resolve("x", ""); tier != 3 {
		t.Errorf("zero Unknown resolves to %d, want the default 3", tier)
	}
	if _, tier := NewTiers(config.Tiers{Unknown: 2}).Resolve("x", ""); tier != 2 {
		t.Errorf("Unknown 2 resolves to %d, want 2", tier)
	}
}

// TestShippedTable checks the embedded table: well-formed rows, valid
// tiers, and one tier per folded name (the generator's majority rule).
func TestShippedTable(t *testing.T) {
	r := csv.NewReader(strings.NewReader(tiersCSV))
	r.Comment = '#'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 100 {
		t.Fatalf("table has %d rows, want the seeded table", len(rows))
	}
	byFold := map[string]string{}
	for _, row := range rows[1:] {
		if row[0] != "name" && row[0] != "domain" || row[3] < "1" || row[3] > "3" || len(row[3]) != 1 {
			t.Errorf("bad row %q", row)
		}
		if row[0] == "name" {
			k := FoldPublisher(row[1])
			if prev, ok := byFold[k]; ok && prev != row[3] {
				t.Errorf("%q folds to %q with tiers %s and %s", row[1], k, prev, row[3])
			}
			byFold[k] = row[3]
		}
	}
}
