package storage

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

func putCand(t *testing.T, s *Store, c *model.Candidate) {
	t.Helper()
	if err := s.Update(func(tx *Tx) error { return tx.PutCandidate(c) }); err != nil {
		t.Fatalf("PutCandidate %s: %v", c.ID, err)
	}
}

func TestPutCandidateIDsAndVersions(t *testing.T) {
	const id = "2025-03-04--aws-wins-ice-contract"
	tests := []struct {
		name        string
		in          model.Candidate
		wantID      string
		wantVersion int
	}{
		{"first gets the plain id", model.Candidate{ID: id}, id, 1},
		{"second new gets -2", model.Candidate{ID: id}, id + "-2", 1},
		{"third new gets -3", model.Candidate{ID: id}, id + "-3", 1},
		{"existing is versioned from the store", model.Candidate{ID: id + "-2", Version: 1, Title: "edited"}, id + "-2", 2},
		{"a caller's version is ignored for existing", model.Candidate{ID: id + "-2", Version: 7}, id + "-2", 3},
		{"restore of an unknown id keeps its version", model.Candidate{ID: "2024-01-01--restored", Version: 4}, "2024-01-01--restored", 4},
		{"suffix of a suffixed id", model.Candidate{ID: id + "-2"}, id + "-2-2", 1},
	}
	s := openTest(t) // shared: each case builds on the ones before
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.in
			c.Status = model.StatusPending
			putCand(t, s, &c)
			if c.ID != tc.wantID || c.Version != tc.wantVersion {
				t.Errorf("after PutCandidate: id %s version %d, want %s version %d", c.ID, c.Version, tc.wantID, tc.wantVersion)
			}
			got, err := s.Candidate(tc.wantID)
			if err != nil || got.Version != tc.wantVersion {
				t.Errorf("stored %s: version %d, %v; want %d", tc.wantID, got.Version, err, tc.wantVersion)
			}
		})
	}
	t.Run("bad ids", func(t *testing.T) {
		for _, c := range []*model.Candidate{nil, {ID: ""}, {ID: "a\x00b"}, {ID: "x", Status: "a\x00b"}} {
			if err := s.Update(func(tx *Tx) error { return tx.PutCandidate(c) }); err == nil {
				t.Errorf("PutCandidate(%+v) succeeded", c)
			}
		}
	})
	if _, err := s.Candidate("2099-01-01--none"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Candidate(unknown) = %v, want ErrNotFound", err)
	}
}

func TestCandidateByKey(t *testing.T) {
	s := openTest(t)
	longURL := "url:https://example.com/" + strings.Repeat("a", 40000)
	putCand(t, s, &model.Candidate{ID: "c1", Status: model.StatusPending, Keys: []string{"url:https://a.example/1", "piid:70CDCR25", longURL}})
	putCand(t, s, &model.Candidate{ID: "c2", Status: model.StatusPending, Keys: []string{"url:https://b.example/2", "piid:70CDCR25", ""}})

	lookup := func(t *testing.T, key string) string {
		t.Helper()
		var id string
		err := s.Update(func(tx *Tx) error {
			c, err := tx.CandidateByKey(key)
			if c != nil {
				id = c.ID
			}
			return err
		})
		if err != nil {
			t.Fatalf("CandidateByKey(%.30q): %v", key, err)
		}
		return id
	}
	tests := []struct {
		name, key, want string
	}{
		{"own url", "url:https://a.example/1", "c1"},
		{"other url", "url:https://b.example/2", "c2"},
		{"shared key stays with the first writer", "piid:70CDCR25", "c1"},
		{"long key", longURL, "c1"},
		{"unknown key", "url:https://nowhere.example/", ""},
		{"empty key", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := lookup(t, tc.key); got != tc.want {
				t.Errorf("CandidateByKey(%.40q) = %q, want %q", tc.key, got, tc.want)
			}
		})
	}
	t.Run("dropped key is released", func(t *testing.T) {
		_, err := s.UpdateCandidate("c1", 0, func(tx *Tx, c *model.Candidate) error {
			c.Keys = []string{"url:https://a.example/1"}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := lookup(t, "piid:70CDCR25"); got != "" {
			t.Errorf("released key still points at %q", got)
		}
		// c2 lists the key; its next save claims it.
		if _, err := s.UpdateCandidate("c2", 0, func(*Tx, *model.Candidate) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if got := lookup(t, "piid:70CDCR25"); got != "c2" {
			t.Errorf("after c2 saved, key points at %q, want c2", got)
		}
	})
}

func TestOpenCandidatesSince(t *testing.T) {
	s := openTest(t)
	for _, c := range []model.Candidate{
		{ID: "old-pending", Status: model.StatusPending, LastSeen: t0.Add(-3 * time.Hour)},
		{ID: "snoozed", Status: model.StatusSnoozed, LastSeen: t0.Add(-time.Hour)},
		{ID: "accepted", Status: model.StatusAccepted, LastSeen: t0.Add(-time.Hour)},
		{ID: "new-pending", Status: model.StatusPending, LastSeen: t0},
		{ID: "edge", Status: model.StatusPending, LastSeen: t0.Add(-2 * time.Hour)},
	} {
		putCand(t, s, &c)
	}
	open := func(t *testing.T, since time.Time) []string {
		t.Helper()
		var ids []string
		err := s.Update(func(tx *Tx) error {
			cs, err := tx.OpenCandidatesSince(since)
			for _, c := range cs {
				ids = append(ids, c.ID)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	steps := []struct {
		name   string
		change func(tx *Tx) error
		since  time.Time
		want   []string
	}{
		{"initial, since is inclusive", nil, t0.Add(-2 * time.Hour), []string{"edge", "snoozed", "new-pending"}},
		{"last seen moves forward", func(tx *Tx) error {
			c, err := tx.Candidate("old-pending")
			if err != nil {
				return err
			}
			c.LastSeen = t0.Add(time.Hour)
			return tx.PutCandidate(c)
		}, t0.Add(-2 * time.Hour), []string{"edge", "snoozed", "new-pending", "old-pending"}},
		{"decided candidate leaves", func(tx *Tx) error {
			c, err := tx.Candidate("snoozed")
			if err != nil {
				return err
			}
			c.Status = model.StatusRejected
			return tx.PutCandidate(c)
		}, t0.Add(-2 * time.Hour), []string{"edge", "new-pending", "old-pending"}},
		{"reopened candidate returns", func(tx *Tx) error {
			c, err := tx.Candidate("accepted")
			if err != nil {
				return err
			}
			c.Status = model.StatusPending
			return tx.PutCandidate(c)
		}, t0.Add(-90 * time.Minute), []string{"accepted", "new-pending", "old-pending"}},
		{"zero time means all open", nil, time.Time{}, []string{"edge", "accepted", "new-pending", "old-pending"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.change != nil {
				if err := s.Update(st.change); err != nil {
					t.Fatal(err)
				}
			}
			if got := open(t, st.since); !slices.Equal(got, st.want) {
				t.Errorf("OpenCandidatesSince = %v, want %v", got, st.want)
			}
		})
	}
}

func TestUpdateCandidate(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name        string
		id          string
		version     int
		fn          func(tx *Tx, c *model.Candidate) error
		wantErr     error
		wantMsg     string
		wantVersion int // stored version afterwards
		wantTitle   string
	}{
		{"no version check", "c", 0, setTitle("new"), nil, "", 3, "new"},
		{"matching version", "c", 2, setTitle("new"), nil, "", 3, "new"},
		{"stale version", "c", 1, setTitle("new"), ErrStale, "update candidate c: stale version: have version 1, stored version 2", 2, "old"},
		{"unknown id", "nope", 0, setTitle("new"), ErrNotFound, "", 2, "old"},
		{"fn error rolls back", "c", 2, func(tx *Tx, c *model.Candidate) error {
			c.Title = "new"
			if _, err := tx.AppendDecision(model.Decision{CandidateID: "c", Action: model.ActionEdit}); err != nil {
				return err
			}
			return errBoom
		}, errBoom, "", 2, "old"},
		{"fn changes the id", "c", 2, func(tx *Tx, c *model.Candidate) error { c.ID = "d"; return nil }, nil, "changed the id", 2, "old"},
		{"fn saves the candidate itself", "c", 2, func(tx *Tx, c *model.Candidate) error {
			cp := *c
			cp.Title = "inner"
			if err := tx.PutCandidate(&cp); err != nil {
				return err
			}
			c.Title = "new"
			return nil
		}, nil, "", 4, "new"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t)
			c := &model.Candidate{ID: "c", Status: model.StatusPending, Title: "old"}
			putCand(t, s, c)
			putCand(t, s, c) // version 2
			got, err := s.UpdateCandidate(tc.id, tc.version, tc.fn)
			switch {
			case tc.wantErr == nil && tc.wantMsg == "":
				if err != nil {
					t.Fatalf("UpdateCandidate: %v", err)
				}
				if got.Version != tc.wantVersion || got.Title != tc.wantTitle {
					t.Errorf("returned version %d title %q, want %d %q", got.Version, got.Title, tc.wantVersion, tc.wantTitle)
				}
			case err == nil:
				t.Fatalf("UpdateCandidate succeeded, want error %v %q", tc.wantErr, tc.wantMsg)
			default:
				if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
					t.Errorf("error %v, want errors.Is %v", err, tc.wantErr)
				}
				if tc.wantMsg != "" && !strings.Contains(err.Error(), tc.wantMsg) {
					t.Errorf("error %q, want it to contain %q", err, tc.wantMsg)
				}
			}
			stored, err := s.Candidate("c")
			if err != nil || stored.Version != tc.wantVersion || stored.Title != tc.wantTitle {
				t.Errorf("stored version %d title %q (%v), want %d %q", stored.Version, stored.Title, err, tc.wantVersion, tc.wantTitle)
			}
			if ds, _ := s.Decisions("c"); tc.wantErr == errBoom && len(ds) != 0 {
				t.Errorf("rolled-back update left %d decisions", len(ds))
			}
		})
	}
}

func setTitle(title string) func(*Tx, *model.Candidate) error {
	return func(_ *Tx, c *model.Candidate) error { c.Title = title; return nil }
}

func TestCandidatesFilterAndOrder(t *testing.T) {
	s := openTest(t)
	for _, c := range []model.Candidate{
		{ID: "b", Status: model.StatusPending, Score: 2},
		{ID: "a", Status: model.StatusPending, Score: 2},
		{ID: "c", Status: model.StatusPending, Score: 5},
		{ID: "d", Status: model.StatusAccepted, Score: 9},
		{ID: "e", Status: model.StatusSnoozed, Score: 1},
	} {
		putCand(t, s, &c)
	}
	tests := []struct {
		status string
		want   []string
	}{
		{"", []string{"d", "c", "a", "b", "e"}},
		{model.StatusPending, []string{"c", "a", "b"}},
		{model.StatusAccepted, []string{"d"}},
		{model.StatusRejected, nil},
	}
	for _, tc := range tests {
		t.Run("status="+tc.status, func(t *testing.T) {
			cs, err := s.Candidates(tc.status)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, c := range cs {
				ids = append(ids, c.ID)
			}
			if !slices.Equal(ids, tc.want) {
				t.Errorf("Candidates(%q) = %v, want %v", tc.status, ids, tc.want)
			}
		})
	}
}

func TestWakeSnoozed(t *testing.T) {
	s := openTest(t)
	for _, c := range []model.Candidate{
		{ID: "past", Status: model.StatusSnoozed, SnoozeUntil: t0.Add(-time.Minute)},
		{ID: "now", Status: model.StatusSnoozed, SnoozeUntil: t0},
		{ID: "future", Status: model.StatusSnoozed, SnoozeUntil: t0.Add(time.Minute)},
		{ID: "pending", Status: model.StatusPending},
	} {
		putCand(t, s, &c)
	}
	n, err := s.WakeSnoozed(t0)
	if err != nil || n != 2 {
		t.Fatalf("WakeSnoozed = %d, %v; want 2", n, err)
	}
	tests := []struct {
		id          string
		wantStatus  string
		wantVersion int
	}{
		{"past", model.StatusPending, 2},
		{"now", model.StatusPending, 2},
		{"future", model.StatusSnoozed, 1},
		{"pending", model.StatusPending, 1},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			c, err := s.Candidate(tc.id)
			if err != nil {
				t.Fatal(err)
			}
			if c.Status != tc.wantStatus || c.Version != tc.wantVersion {
				t.Errorf("status %s version %d, want %s %d", c.Status, c.Version, tc.wantStatus, tc.wantVersion)
			}
			if woke := tc.wantVersion == 2; woke && (!c.SnoozeUntil.IsZero() || len(c.History) != 1 || c.History[0].Kind != "woken") {
				t.Errorf("woken candidate: SnoozeUntil %v history %+v", c.SnoozeUntil, c.History)
			}
		})
	}
	if n, err := s.WakeSnoozed(t0); err != nil || n != 0 {
		t.Errorf("second WakeSnoozed = %d, %v; want 0", n, err)
	}
}
