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
