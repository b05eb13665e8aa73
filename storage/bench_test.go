package storage

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

// BenchmarkCommit50 measures one Commit of 50 new items, each creating a
// candidate and one outbox record, as a poll of a busy feed would.
func BenchmarkCommit50(b *testing.B) {
	for _, noSync := range []bool{true, false} {
		b.Run(fmt.Sprintf("nosync=%t", noSync), func(b *testing.B) {
			s, err := Open(filepath.Join(b.TempDir(), "state"), Options{NoSync: noSync})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			onNew := func(tx *Tx, it model.Item) error {
				c := &model.Candidate{ID: "2025-03-04--" + it.Key, Status: model.StatusPending, Title: it.Title,
					LastSeen: it.FirstSeen, Keys: []string{"url:" + it.URL}}
				if err := tx.PutCandidate(c); err != nil {
					return err
				}
				return tx.Enqueue(model.OutboxRecord{Dest: "slack", Event: model.AlertCreated, CandidateID: c.ID})
			}
			items := make([]model.Item, 50)
			st := model.SourceState{Name: "bench"}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				for j := range items {
					key := fmt.Sprintf("g:%d-%d", i, j)
					items[j] = newsItem(key, t0.Add(time.Duration(i)*time.Second))
					items[j].Summary = "Amazon Web Services wins a contract with Immigration and Customs Enforcement for data hosting."
				}
				got, err := s.Commit(b.Context(), st, items, onNew)
				if err != nil {
					b.Fatal(err)
				}
				if len(got) != len(items) {
					b.Fatalf("%d new, want %d", len(got), len(items))
				}
			}
		})
	}
}

// BenchmarkJoin measures one join as the grouper makes it: in one write
// transaction, read the open candidates, append a source (with its match
// and key) to one of n sources and save it; every other iteration removes
// it again (but not its key), so the candidate keeps its size. Before
// candidate parts had their own bucket (schema 2) every save re-encoded the
// whole candidate; now what still grows with n is copying and comparing
// the lists in memory, with no encoding and a constant number of
// allocations (figures in BENCHMARKS.md).
func BenchmarkJoin(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("sources=%d", n), func(b *testing.B) {
			s, err := Open(filepath.Join(b.TempDir(), "state"), Options{NoSync: true})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if err := s.Update(func(tx *Tx) error { return tx.PutCandidate(partsCand("c1", n)) }); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				err := s.Update(func(tx *Tx) error {
					cs, err := tx.OpenCandidatesSince(t0.Add(-time.Hour))
					if err != nil || len(cs) != 1 {
						return fmt.Errorf("open candidates: %d, %v", len(cs), err)
					}
					c := cs[0]
					if i%2 == 0 {
						addSource(c, n+i)
					} else {
						// Keys stay: dropping one releases it, which
						// makes the next save look up every key again.
						c.Sources, c.Matches = c.Sources[:n], c.Matches[:n]
					}
					return tx.PutCandidate(c)
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
