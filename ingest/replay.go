package ingest

import (
	"context"
	"fmt"
	"time"

	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/storage"
)

// replayBatch is how many matched items one replay write covers: enough to
// amortise the commit, few enough to keep the write short.
const replayBatch = 200

// Replay runs the current rules over stored items first seen at or after
// since. Matches a candidate already holds (same rule, same item) are not
// added again, so replaying twice changes nothing; new rules' matches join
// or create candidates as a poll would. Stats.Items counts the items read
// and Stats.New the items that matched.
func (p *Pipeline) Replay(ctx context.Context, since time.Time) (Stats, error) {
	stats := Stats{Matched: map[string]int{}}
	type pending struct {
		it model.Item
		ms []model.Match
	}
	var batch []pending
	now := p.now()
	rs := p.rules.Load()
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		items := make([]model.Item, len(batch))
		byKey := make(map[string][]model.Match, len(batch))
		for i, b := range batch {
			items[i] = b.it
			byKey[b.it.Source+"\x00"+b.it.Key] = b.ms
		}
		err := p.store.Replay(ctx, items, func(tx *storage.Tx, it model.Item) error {
			ms, err := newMatches(tx, it, byKey[it.Source+"\x00"+it.Key])
			if err != nil || len(ms) == 0 {
				return err
			}
			_, kind, err := p.group(tx, rs, it, ms, now)
			if err != nil || kind == unchanged {
				return err
			}
			for _, m := range ms {
				stats.Matched[m.Rule]++
			}
			if kind == created {
				stats.Created++
			} else {
				stats.Joined++
			}
			return nil
		})
		batch = batch[:0]
		return err
	}
	err := p.store.Items(ctx, since, func(it model.Item) error {
		stats.Items++
		ms := rs.match(&it)
		if len(ms) == 0 {
			return nil
		}
		stats.New++
		batch = append(batch, pending{it, ms})
		if len(batch) >= replayBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return stats, fmt.Errorf("replay: %w", err)
	}
	if stats.Created+stats.Joined > 0 && p.OnAlert != nil {
		p.OnAlert()
	}
	return stats, nil
}

// newMatches drops the matches that the item's candidate already records
// (same rule on the same item), so a replay adds only what is new.
func newMatches(tx *storage.Tx, it model.Item, ms []model.Match) ([]model.Match, error) {
	c, err := tx.CandidateByKey("url:" + it.URL)
	if err != nil || c == nil {
		return ms, err
	}
	have := map[string]bool{}
	for _, m := range c.Matches {
		have[m.Rule+"\x00"+m.Source+"\x00"+m.ItemKey] = true
	}
	var out []model.Match
	for _, m := range ms {
		if !have[m.Rule+"\x00"+it.Source+"\x00"+it.Key] {
			out = append(out, m)
		}
	}
	return out, nil
}
