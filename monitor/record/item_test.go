package record

import (
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
)

func TestNewItem(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name          string
		src           config.Source
		e             Entry
		wantPublisher string
		wantTier      model.Tier
		wantDate      string
		wantURL       string
	}{
		{"defaults", config.Source{Name: "s"},
			Entry{Key: "notice:1", Title: "<b>T</b>", Published: now.Add(-time.Hour),
				Record: &model.Record{RecordURL: "https://sam.gov/opp/1/view?utm_source=x"}},
			"SAM.gov", 1, "published", "https://sam.gov/opp/1/view"},
		{"source overrides", config.Source{Name: "s", Publisher: "Mine", Tier: 2},
			Entry{Key: "k", Title: "T", Record: &model.Record{RecordURL: "javascript:alert(1)"}},
			"Mine", 2, "first_seen", ""},
		{"future date clamped", config.Source{Name: "s"},
			Entry{Key: "k", Title: "T", Published: now.Add(72 * time.Hour)},
			"SAM.gov", 1, "first_seen", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := NewItem(tt.src, "SAM.gov", tt.e, now)
			if it.Publisher != tt.wantPublisher || it.Tier != tt.wantTier || it.DateSource != tt.wantDate || it.URL != tt.wantURL {
				t.Errorf("got publisher %q tier %d date %q url %q; want %q %d %q %q",
					it.Publisher, it.Tier, it.DateSource, it.URL, tt.wantPublisher, tt.wantTier, tt.wantDate, tt.wantURL)
			}
			if it.Source != "s" || it.Key != tt.e.Key || it.FirstSeen != now {
				t.Errorf("identity fields %q %q %v", it.Source, it.Key, it.FirstSeen)
			}
		})
	}
	r := &model.Record{
		AgencyPath:         []string{" DHS ", "DHS", "", "ICE"},
		Vendors:            []model.Vendor{{Name: " A <i>Co</i> ", UEI: " X "}, {}},
		SolicitationNumber: " 47PF0018R0023 ",
		NAICS:              []string{"1", " 1", ""},
	}
	it := NewItem(config.Source{}, "p", Entry{Key: "k", Record: r}, now)
	got := it.Record
	if len(got.AgencyPath) != 2 || got.AgencyPath[1] != "ICE" || len(got.Vendors) != 1 ||
		got.Vendors[0].Name != "A Co" || got.Vendors[0].UEI != "X" ||
		got.SolicitationNumber != "47PF0018R0023" || len(got.NAICS) != 1 || it.Title != "k" {
		t.Errorf("cleaned record %+v title %q", got, it.Title)
	}
}

func TestPlace(t *testing.T) {
	if got := Place("REDONDO BEACH", "CA", "90278", "UNITED STATES"); got != "REDONDO BEACH, CA 90278, UNITED STATES" {
		t.Errorf("Place = %q", got)
	}
	if got := Place("", "", "", ""); got != "" {
		t.Errorf("empty Place = %q", got)
	}
}
