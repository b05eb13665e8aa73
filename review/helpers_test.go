package review

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/storage"
)

// testNow is the fixed clock of the review tests.
var testNow = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)

// openStore opens a real bbolt store in a temp dir; cleanup checks its
// consistency and closes it.
func openStore(t *testing.T) *storage.Store {
	t.Helper()
	st, err := storage.Open(filepath.Join(t.TempDir(), "state"), storage.Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Check(); err != nil {
			t.Errorf("store check: %v", err)
		}
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	return st
}

// cand returns a pending candidate with two sources and a title match.
func cand(id, title string, score float64) model.Candidate {
	date := id[:10]
	return model.Candidate{
		ID: id, Status: model.StatusPending, Score: score, Importance: 6, Date: date, Title: title,
		Actors: []string{"Amazon"}, Tags: []string{"surveillance"}, Rules: []string{"amazon-ice"},
		Sources: []model.Ref{
			{URL: "https://www.reuters.com/" + id, Title: title, Publisher: "Reuters", Date: date, Tier: 1, ItemKey: "u:" + id, Source: "reuters"},
			{URL: "https://blog.example.org/" + id, Title: "Analysis: " + title, Publisher: "Example Blog", Date: date, Tier: 3, ItemKey: "u:b-" + id, Source: "blog"},
		},
		Matches: []model.Match{{Rule: "amazon-ice", ItemKey: "u:" + id, Source: "reuters", Weight: 3,
			Hits: []model.Hit{{Term: "amazon", Entity: "company:amazon", Field: "title", Start: 0, End: len("Amazon"), Text: "Amazon"}}}},
		Keys:       []string{"url:https://www.reuters.com/" + id},
		FirstSeen:  testNow.Add(-2 * time.Hour),
		LastSeen:   testNow.Add(-time.Hour),
		ScoreParts: model.ScoreParts{RuleWeight: 3, BestTier: 1, TierFactor: 1, Publishers: 2, Corroboration: 1.2, Recency: 1},
	}
}

// seed stores the candidates (as new, Version 1) and returns them as stored.
func seed(t *testing.T, st *storage.Store, cs ...model.Candidate) []model.Candidate {
	t.Helper()
	err := st.Update(func(tx *storage.Tx) error {
		for i := range cs {
			if err := tx.PutCandidate(&cs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func newQueue(st *storage.Store) *Queue {
	return NewQueue(st, func() time.Time { return testNow }, nil)
}

func mustGet(t *testing.T, st *storage.Store, id string) model.Candidate {
	t.Helper()
	c, err := st.Candidate(id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
