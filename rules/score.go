package rules

import (
	"math"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

// Score formula constants (see the package doc).
const (
	scoreScale       = 5.0
	recencyHalfLife  = 14 * 24 * time.Hour
	recencyFloor     = 0.25
	corroborationCap = 2.0
	corroborationPer = 0.25
)

// tierFactor is how much one source of each tier is trusted on its own.
var tierFactor = map[model.Tier]float64{1: 1.0, 2: 0.75, 3: 0.5}

// Score computes a candidate's score and its parts at time now:
//
//	score = 5 × W × T × C × R, capped at 10
//
// W is the largest Weight among c.Matches (1 when there are none); T is 1,
// 0.75 or 0.5 for the best source tier 1, 2 or 3 (0.5 when unknown); C is
// 1 + 0.25 per independent publisher beyond the first, capped at 2 (five
// publishers); R is 0.5^(age/14 days), floored at 0.25, where age is the
// number of whole days from the candidate's Date (else FirstSeen) to now's
// UTC date, never negative.
// A lone tier-3 report of a weight-1 rule scores 2.5 (importance 3), a
// fresh tier-1 report 5, and five publishers including a tier-1 one 10.
// Score is pure: it reads c and never modifies it.
func Score(c *model.Candidate, now time.Time) (float64, model.ScoreParts) {
	p := model.ScoreParts{RuleWeight: 1}
	for i, m := range c.Matches {
		if i == 0 || m.Weight > p.RuleWeight {
			p.RuleWeight = m.Weight
		}
	}
	if p.RuleWeight <= 0 {
		p.RuleWeight = 1
	}
	p.BestTier = c.BestTier()
	p.TierFactor = tierFactor[p.BestTier]
	if p.TierFactor == 0 {
		p.TierFactor = tierFactor[3]
	}
	p.Publishers = c.Publishers()
	p.Corroboration = 1
	if p.Publishers > 1 {
		p.Corroboration = math.Min(corroborationCap, 1+corroborationPer*float64(p.Publishers-1))
	}
	when := c.FirstSeen
	if d, err := time.Parse(time.DateOnly, c.Date); err == nil {
		when = d
	}
	age := now.UTC().Truncate(24 * time.Hour).Sub(when.UTC().Truncate(24 * time.Hour))
	if age < 0 || when.IsZero() {
		age = 0
	}
	p.Recency = math.Max(recencyFloor, math.Pow(0.5, float64(age)/float64(recencyHalfLife)))
	s := scoreScale * p.RuleWeight * p.TierFactor * p.Corroboration * p.Recency
	s = math.Min(10, s)
	return math.Round(s*100) / 100, p
}

// Importance suggests a timeline importance 1..10 from a score: the score
// rounded, clamped to 1..10 (NaN gives 1).
func Importance(score float64) int {
	if math.IsNaN(score) {
		return 1
	}
	return int(math.Max(1, math.Min(10, math.Round(score))))
}
