package storage

import (
	"errors"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

// openTitle returns the title of candidate id as OpenCandidatesSince sees
// it in a write transaction (the cached path).
func openTitle(t *testing.T, s *Store, id string) string {
	t.Helper()
	var title string
	err := s.Update(func(tx *Tx) error {
		cs, err := tx.OpenCandidatesSince(t0.Add(-time.Hour))
		for _, c := range cs {
			if c.ID == id {
				title = c.Title
			}
		}
		return err
	})
	if err != nil {
		t.Fatalf("OpenCandidatesSince: %v", err)
	}
	return title
}

// TestCandidateCacheFollowsTheStore checks that the decoded-candidate cache
// of write transactions never shows anything but what is stored: after a
// save through PutCandidate, after a change through another path
// (UpdateCandidate), and after a transaction that changed a shared
// candidate and then failed.
func TestCandidateCacheFollowsTheStore(t *testing.T) {
	errBoom := errors.New("boom")
	cases := []struct {
		name   string
		change func(t *testing.T, s *Store)
		want   string
	}{
		{"unchanged", func(*testing.T, *Store) {}, "first"},
		{"put through OpenCandidatesSince's object", func(t *testing.T, s *Store) {
			err := s.Update(func(tx *Tx) error {
				cs, err := tx.OpenCandidatesSince(t0.Add(-time.Hour))
				if err != nil {
					return err
				}
				cs[0].Title = "joined"
				return tx.PutCandidate(cs[0])
			})
			if err != nil {
				t.Fatal(err)
			}
		}, "joined"},
		{"moved in time and re-keyed through the shared object", func(t *testing.T, s *Store) {
			err := s.Update(func(tx *Tx) error {
				cs, err := tx.OpenCandidatesSince(t0.Add(-time.Hour))
				if err != nil {
					return err
				}
				// The old index entries (LastSeen t0, key url:a) must go:
				// openTest's cleanup checks the indexes.
				cs[0].Title, cs[0].LastSeen, cs[0].Keys = "moved", t0.Add(time.Minute), []string{"url:b"}
				return tx.PutCandidate(cs[0])
			})
			if err != nil {
				t.Fatal(err)
			}
			err = s.Update(func(tx *Tx) error {
				c, err := tx.CandidateByKey("url:a")
				if err == nil && c != nil {
					t.Errorf("released key url:a still finds %s", c.ID)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}, "moved"},
		{"written by UpdateCandidate", func(t *testing.T, s *Store) {
			if _, err := s.UpdateCandidate("c1", 1, setTitle("updated")); err != nil {
				t.Fatal(err)
			}
		}, "updated"},
		{"changed in a transaction that failed", func(t *testing.T, s *Store) {
			err := s.Update(func(tx *Tx) error {
				cs, err := tx.OpenCandidatesSince(t0.Add(-time.Hour))
				if err != nil {
					return err
				}
				cs[0].Title = "rolled back"
				return errBoom
			})
			if !errors.Is(err, errBoom) {
				t.Fatalf("Update: %v, want boom", err)
			}
		}, "first"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t)
			putCand(t, s, &model.Candidate{ID: "c1", Status: model.StatusPending, Title: "first", LastSeen: t0, Keys: []string{"url:a"}})
			if got := openTitle(t, s, "c1"); got != "first" { // fills the cache
				t.Fatalf("before: title %q, want first", got)
			}
			tc.change(t, s)
			if got := openTitle(t, s, "c1"); got != tc.want {
				t.Errorf("cached title %q, want %q", got, tc.want)
			}
			c, err := s.Candidate("c1")
			if err != nil {
				t.Fatal(err)
			}
			if c.Title != tc.want {
				t.Errorf("stored title %q, want %q", c.Title, tc.want)
			}
		})
	}
}
