package rules

import (
	"math"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

func TestScore(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	src := func(pub string, tier model.Tier) model.Ref {
		return model.Ref{URL: "https://" + pub, Publisher: pub, Tier: tier}
	}
	tests := []struct {
		name      string
		c         model.Candidate
		wantScore float64
		wantImp   int
	}{
		{"lone tier 3 today", model.Candidate{Date: "2025-06-01", Sources: []model.Ref{src("blog", 3)}}, 2.5, 3},
		{"lone tier 1 today", model.Candidate{Date: "2025-06-01", Sources: []model.Ref{src("ap", 1)}}, 5, 5},
		{"unknown tier counts as 3", model.Candidate{Date: "2025-06-01", Sources: []model.Ref{src("x", 0)}}, 2.5, 3},
		{"rule weight 2", model.Candidate{Date: "2025-06-01", Sources: []model.Ref{src("ap", 1)},
			Matches: []model.Match{{Weight: 0.5}, {Weight: 2}}}, 10, 10},
		{"two publishers", model.Candidate{Date: "2025-06-01", Sources: []model.Ref{src("ap", 1), src("blog", 3)}}, 6.25, 6},
		{"same publisher twice is not corroboration", model.Candidate{Date: "2025-06-01",
			Sources: []model.Ref{src("ap", 1), {URL: "u2", Publisher: "ap", Tier: 1}}}, 5, 5},
		{"corroboration capped", model.Candidate{Date: "2025-06-01", Sources: []model.Ref{
			src("a", 2), src("b", 2), src("c", 2), src("d", 2), src("e", 2), src("f", 2), src("g", 2)}}, 7.5, 8},
		{"two weeks old halves", model.Candidate{Date: "2025-05-18", Sources: []model.Ref{src("ap", 1)}}, 2.5, 3},
		{"old is floored", model.Candidate{Date: "2020-01-01", Sources: []model.Ref{src("ap", 1)}}, 1.25, 1},
		{"future date is fresh", model.Candidate{Date: "2025-07-01", Sources: []model.Ref{src("ap", 1)}}, 5, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, parts := Score(&tt.c, now)
			if math.Abs(got-tt.wantScore) > 0.005 {
				t.Errorf("Score = %.2f (%+v), want %.2f", got, parts, tt.wantScore)
			}
			if imp := Importance(got); imp != tt.wantImp {
				t.Errorf("Importance(%.2f) = %d, want %d", got, imp, tt.wantImp)
			}
		})
	}
}

func TestImportanceBounds(t *testing.T) {
	tests := []struct {
		name  string
		score float64
		want  int
	}{
		{"zero", 0, 1}, {"negative", -3, 1}, {"nan", math.NaN(), 1}, {"huge", 99, 10}, {"rounds", 6.5, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Importance(tt.score); got != tt.want {
				t.Errorf("Importance(%v) = %d, want %d", tt.score, got, tt.want)
			}
		})
	}
}
