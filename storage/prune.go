package storage

// Retention: Prune deletes old items, seen entries and decisions in small
// batches, one short Update each, so the daemon's writers are never blocked
// for long. It owns no buckets; the batch steps live with their aggregates
// (pruneItems and pruneSeen in items.go, pruneDecisions in decisions.go).

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Defaults of Store.pruneBatch and Store.pruneScan (tests lower them).
const (
	// defaultPruneBatch bounds the deletes of one Prune transaction.
	defaultPruneBatch = 1000
	// defaultPruneScan bounds the entries one Prune transaction reads when
	// it must scan (seen values and decisions are not indexed by time).
	defaultPruneScan = 5000
)

// Retention says how long to keep each kind of record; 0 keeps it forever.
// Seen must outlast the longest time an item stays listed in any source,
// or a forgotten item comes back as new; keep it well above Items.
type Retention struct{ Items, Seen, Decisions time.Duration }

// PruneStats counts what one Prune deleted: items, seen entries and
// decisions, and the item log segments freed by the items.
type PruneStats struct{ Items, Seen, Decisions, Segments int }

// Prune deletes items first seen, seen entries first seen, and decisions
// made more than the retention before now. It works in batches (keys are
// collected, then deleted, one Update per batch); an error leaves earlier
// batches deleted and is returned with the counts so far. Pruning never
// touches candidates or the outbox.
func (s *Store) Prune(now time.Time, r Retention) (PruneStats, error) {
	var st PruneStats
	if r.Items > 0 {
		cutoff := now.Add(-r.Items)
		for done := false; !done; {
			err := s.db.Update(func(tx *bolt.Tx) error {
				n, d, err := pruneItems(tx, cutoff, s.pruneBatch)
				if err == nil {
					st.Items += n
				}
				done = d
				return err
			})
			if err != nil {
				return st, fmt.Errorf("prune items: %w", err)
			}
		}
		n, err := s.log.sweep(s.segmentLive)
		st.Segments = n
		if err != nil {
			return st, fmt.Errorf("prune items: %w", err)
		}
	}
	if r.Seen > 0 {
		if err := s.pruneScanning(now.Add(-r.Seen), pruneSeen, &st.Seen); err != nil {
			return st, fmt.Errorf("prune seen items: %w", err)
		}
	}
	if r.Decisions > 0 {
		if err := s.pruneScanning(now.Add(-r.Decisions), pruneDecisions, &st.Decisions); err != nil {
			return st, fmt.Errorf("prune decisions: %w", err)
		}
	}
	return st, nil
}

// pruneScanning runs step in one Update per slice of a bucket until it
// reports no next position, adding the deletions to *count.
func (s *Store) pruneScanning(cutoff time.Time,
	step func(*bolt.Tx, time.Time, []byte, int) (int, []byte, error), count *int) error {
	var from []byte
	for {
		var next []byte
		err := s.db.Update(func(tx *bolt.Tx) error {
			n, nx, err := step(tx, cutoff, from, s.pruneScan)
			if err == nil {
				*count += n
			}
			next = nx
			return err
		})
		if err != nil {
			return err
		}
		if next == nil {
			return nil
		}
		from = next
	}
}
