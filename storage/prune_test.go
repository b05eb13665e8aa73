package storage

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

func TestPrune(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name string
		r    Retention
		want PruneStats
		// keys (source "a") expected to remain as items, and as seen
		wantItems, wantSeen []string
		wantDecisions       []uint64
	}{
		{"keep forever", Retention{}, PruneStats{},
			[]string{"g:10d", "g:5d", "g:1d", "g:now"}, []string{"g:10d", "g:5d", "g:1d", "g:now"}, []uint64{1, 2}},
		{"items only", Retention{Items: 3 * day}, PruneStats{Items: 2},
			[]string{"g:1d", "g:now"}, []string{"g:10d", "g:5d", "g:1d", "g:now"}, []uint64{1, 2}},
		{"items and seen", Retention{Items: 3 * day, Seen: 7 * day}, PruneStats{Items: 2, Seen: 1},
			[]string{"g:1d", "g:now"}, []string{"g:5d", "g:1d", "g:now"}, []uint64{1, 2}},
		{"decisions", Retention{Decisions: 30 * day}, PruneStats{Decisions: 1},
			[]string{"g:10d", "g:5d", "g:1d", "g:now"}, []string{"g:10d", "g:5d", "g:1d", "g:now"}, []uint64{2}},
		{"cutoff equal to first seen keeps it", Retention{Items: 5 * day, Seen: 5 * day}, PruneStats{Items: 1, Seen: 1},
			[]string{"g:5d", "g:1d", "g:now"}, []string{"g:5d", "g:1d", "g:now"}, []uint64{1, 2}},
	}
	all := []string{"g:10d", "g:5d", "g:1d", "g:now"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t)
			items := []model.Item{
				newsItem("g:10d", t0.Add(-10*day)), newsItem("g:5d", t0.Add(-5*day)),
				newsItem("g:1d", t0.Add(-day)), newsItem("g:now", t0),
			}
			if _, err := s.Commit(t.Context(), model.SourceState{Name: "a"}, items, nil); err != nil {
				t.Fatal(err)
			}
			err := s.Update(func(tx *Tx) error {
				for _, at := range []time.Time{t0.Add(-40 * day), t0.Add(-day)} {
					if _, err := tx.AppendDecision(model.Decision{CandidateID: "c", Action: model.ActionAccept, At: at}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Prune(t0, tc.r)
			if err != nil {
				t.Fatalf("Prune: %v", err)
			}
			if got != tc.want {
				t.Errorf("PruneStats = %+v, want %+v", got, tc.want)
			}
			var items2, seen []string
			unseen, err := s.Unseen("a", all)
			if err != nil {
				t.Fatal(err)
			}
			for i, k := range all {
				if _, err := s.Item("a", k); err == nil {
					items2 = append(items2, k)
				} else if !errors.Is(err, ErrNotFound) {
					t.Fatal(err)
				}
				if !unseen[i] {
					seen = append(seen, k)
				}
			}
			if !slices.Equal(items2, tc.wantItems) {
				t.Errorf("items left = %v, want %v", items2, tc.wantItems)
			}
			if !slices.Equal(seen, tc.wantSeen) {
				t.Errorf("seen left = %v, want %v", seen, tc.wantSeen)
			}
			var listed []string
			if err := s.Items(t.Context(), time.Time{}, func(it model.Item) error { listed = append(listed, it.Key); return nil }); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(listed, tc.wantItems) {
				t.Errorf("Items lists %v, want %v", listed, tc.wantItems)
			}
			ds, err := s.Decisions("c")
			if err != nil {
				t.Fatal(err)
			}
			var seqs []uint64
			for _, d := range ds {
				seqs = append(seqs, d.Seq)
			}
			if !slices.Equal(seqs, tc.wantDecisions) {
				t.Errorf("decisions left = %v, want %v", seqs, tc.wantDecisions)
			}
		})
	}
}

// TestPruneBatches lowers the per-transaction limits so that every prune
// step runs in several transactions, resuming where the last one stopped.
func TestPruneBatches(t *testing.T) {
	s := openTest(t)
	s.pruneBatch, s.pruneScan = 7, 11
	const n = 100 // items, one hour apart, the last an hour before t0
	items := make([]model.Item, n)
	for i := range items {
		items[i] = newsItem(fmt.Sprintf("g:%05d", i), t0.Add(-time.Duration(n-i)*time.Hour))
	}
	if _, err := s.Commit(t.Context(), model.SourceState{Name: "a"}, items, nil); err != nil {
		t.Fatal(err)
	}
	// Keep the newest 50 hours: the 50 older items go.
	got, err := s.Prune(t0, Retention{Items: 50*time.Hour + time.Minute, Seen: 50*time.Hour + time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if want := (PruneStats{Items: n - 50, Seen: n - 50}); got != want {
		t.Errorf("PruneStats = %+v, want %+v", got, want)
	}
	count := 0
	if err := s.Items(t.Context(), time.Time{}, func(model.Item) error { count++; return nil }); err != nil {
		t.Fatal(err)
	}
	if count != 50 {
		t.Errorf("%d items left, want 50", count)
	}
	err = s.Update(func(tx *Tx) error {
		for i := range n {
			d := model.Decision{CandidateID: fmt.Sprintf("c%d", i%3), Action: model.ActionAccept, At: items[i].FirstSeen}
			if _, err := tx.AppendDecision(d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err = s.Prune(t0, Retention{Decisions: 50*time.Hour + time.Minute})
	if err != nil || got.Decisions != n-50 {
		t.Errorf("Prune decisions = %+v, %v; want %d", got, err, n-50)
	}
	if ds, _ := s.Decisions(""); len(ds) != 50 {
		t.Errorf("%d decisions left, want 50", len(ds))
	}
}
