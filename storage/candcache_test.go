package storage

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
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

// TestSharedHitsStayRight changes candidates the way callers do while the
// cache's record of what is stored shares its Hits with them (see
// diskCopy): joins through OpenCandidatesSince's object appending matches
// whose Hits are new (as Matcher.Match makes them), a match given new
// Hits, a hit edited in place on a fresh copy from Tx.Candidate (review's
// path), a candidate changed in place after a save and saved again, and an
// edit through UpdateCandidate. After each step the store,
// read back, must hold what was saved, and so must the next join's view.
func TestSharedHitsStayRight(t *testing.T) {
	join := func(n int) func(tx *Tx) (*model.Candidate, error) {
		return func(tx *Tx) (*model.Candidate, error) {
			cs, err := tx.OpenCandidatesSince(t0.Add(-time.Hour))
			if err != nil || len(cs) != 1 {
				return nil, fmt.Errorf("open candidates: %d, %v", len(cs), err)
			}
			addSource(cs[0], n)
			return cs[0], nil
		}
	}
	steps := []struct {
		name   string
		change func(tx *Tx) (*model.Candidate, error)
	}{
		{"join", join(10)},
		{"join again", join(11)},
		{"new hits through the shared object", func(tx *Tx) (*model.Candidate, error) {
			cs, err := tx.OpenCandidatesSince(t0.Add(-time.Hour))
			if err != nil || len(cs) != 1 {
				return nil, fmt.Errorf("open candidates: %d, %v", len(cs), err)
			}
			m := &cs[0].Matches[1]
			m.Hits = append(slices.Clone(m.Hits), model.Hit{Term: "ICE", Field: "title", Start: 10, End: 13, Text: "ICE"})
			return cs[0], nil
		}},
		{"join after new hits", join(12)},
		{"hit edited in place on a fresh copy", func(tx *Tx) (*model.Candidate, error) {
			c, err := tx.Candidate("c1")
			if err != nil {
				return nil, err
			}
			c.Matches[0].Hits[0].Text = "Amazon Web Services"
			c.Matches[len(c.Matches)-1].Hits[0].Term = "Amazon"
			return c, nil
		}},
		{"join after the fresh copy", join(13)},
		{"saved, edited in place and saved again", func(tx *Tx) (*model.Candidate, error) {
			c, err := tx.Candidate("c1")
			if err != nil {
				return nil, err
			}
			c.Sources[0].Tier = 1
			if err := tx.PutCandidate(c); err != nil {
				return nil, err
			}
			c.Sources[0].Tier, c.Matches[0].Weight, c.Keys[0] = 3, 2, "piid:70CDCR25"
			return c, nil
		}},
		{"hit edited in place by UpdateCandidate", nil},
		{"join after UpdateCandidate", join(14)},
	}
	s := openTest(t)
	putCand(t, s, partsCand("c1", 3))
	for _, st := range steps {
		var want *model.Candidate
		if st.change == nil {
			c, err := s.UpdateCandidate("c1", 0, func(_ *Tx, c *model.Candidate) error {
				c.Matches[2].Hits[0].Start = 1
				return nil
			})
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			want = &c
		} else {
			err := s.Update(func(tx *Tx) error {
				c, err := st.change(tx)
				if err != nil {
					return err
				}
				if err := tx.PutCandidate(c); err != nil {
					return err
				}
				want = deepClone(c)
				return nil
			})
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
		got, err := s.Candidate("c1")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&got, want) {
			t.Fatalf("%s: stored\n%+v\nwant\n%+v", st.name, got.Matches, want.Matches)
		}
	}
}

// deepClone copies c with its Hits.
func deepClone(c *model.Candidate) *model.Candidate {
	d := c.Clone()
	for i := range d.Matches {
		d.Matches[i].Hits = slices.Clone(d.Matches[i].Hits)
	}
	return d
}
