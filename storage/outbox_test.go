package storage

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

// enqueue adds records for the given dests (in order) with CreatedAt one
// minute apart and returns them as stored, keyed "dest#seq".
func enqueue(t *testing.T, s *Store, dests ...string) map[string]model.OutboxRecord {
	t.Helper()
	for i, d := range dests {
		err := s.Update(func(tx *Tx) error {
			return tx.Enqueue(model.OutboxRecord{Dest: d, Event: model.AlertCreated, CandidateID: fmt.Sprintf("c%d", i), CreatedAt: t0.Add(time.Duration(i) * time.Minute)})
		})
		if err != nil {
			t.Fatalf("Enqueue %s: %v", d, err)
		}
	}
	all, err := s.Outbox("")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]model.OutboxRecord{}
	for _, r := range all {
		byName[fmt.Sprintf("%s#%d", r.Dest, r.Seq)] = r
	}
	return byName
}

func dueNames(t *testing.T, s *Store, now time.Time, limit int) []string {
	t.Helper()
	due, err := s.OutboxDue(now, limit)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range due {
		names = append(names, fmt.Sprintf("%s#%d", r.Dest, r.Seq))
	}
	return names
}

func TestEnqueueAssigns(t *testing.T) {
	s := openTest(t)
	err := s.Update(func(tx *Tx) error {
		for _, r := range []model.OutboxRecord{
			{Dest: "slack", State: model.OutboxDead},
			{Dest: "slack"},
			{Dest: "hook", ID: "fixed-id", CreatedAt: t0.Add(-time.Hour)},
		} {
			if err := tx.Enqueue(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	all, err := s.Outbox("")
	if err != nil || len(all) != 3 {
		t.Fatalf("Outbox = %d records, %v; want 3", len(all), err)
	}
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	tests := []struct {
		name    string
		r       model.OutboxRecord
		wantID  string // "" = random hex
		wantSeq uint64
		created time.Time
	}{
		{"explicit id kept", all[0], "fixed-id", 1, t0.Add(-time.Hour)},
		{"first of slack", all[1], "", 1, t0},
		{"second of slack", all[2], "", 2, t0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.wantID != "" && tc.r.ID != tc.wantID || tc.wantID == "" && !hex32.MatchString(tc.r.ID) {
				t.Errorf("ID = %q, want %q or 32 hex digits", tc.r.ID, tc.wantID)
			}
			if tc.r.Seq != tc.wantSeq || tc.r.State != model.OutboxPending || !tc.r.CreatedAt.Equal(tc.created) {
				t.Errorf("seq %d state %s created %v, want %d pending %v", tc.r.Seq, tc.r.State, tc.r.CreatedAt, tc.wantSeq, tc.created)
			}
		})
	}
	t.Run("rejects", func(t *testing.T) {
		for _, r := range []model.OutboxRecord{{Dest: ""}, {Dest: "a\x00b"}, {Dest: "hook", ID: "fixed-id"}} {
			if err := s.Update(func(tx *Tx) error { return tx.Enqueue(r) }); err == nil {
				t.Errorf("Enqueue(%+v) succeeded", r)
			}
		}
	})
}

func TestOutboxOrderPerDestination(t *testing.T) {
	s := openTest(t)
	recs := enqueue(t, s, "slack", "slack", "hook", "slack", "hook-b")
	set := func(name string, fn func(r *model.OutboxRecord)) func(t *testing.T) {
		return func(t *testing.T) {
			if err := s.OutboxResult(recs[name].ID, fn); err != nil {
				t.Fatalf("OutboxResult %s: %v", name, err)
			}
		}
	}
	steps := []struct {
		name   string
		do     func(t *testing.T)
		now    time.Time
		limit  int
		want   []string
		wantPD [2]int
	}{
		{"only the head of each dest is due", nil, t0.Add(time.Hour), 0,
			[]string{"slack#1", "hook#1", "hook-b#1"}, [2]int{5, 0}},
		{"limit keeps the oldest", nil, t0.Add(time.Hour), 2,
			[]string{"slack#1", "hook#1"}, [2]int{5, 0}},
		{"failed head with a future retry blocks its dest", set("slack#1", func(r *model.OutboxRecord) {
			r.Attempts++
			r.NextAttempt = t0.Add(2 * time.Hour)
			r.LastError = "503"
		}), t0.Add(time.Hour), 0, []string{"hook#1", "hook-b#1"}, [2]int{5, 0}},
		{"retry becomes due at NextAttempt", nil, t0.Add(2 * time.Hour), 0,
			[]string{"slack#1", "hook#1", "hook-b#1"}, [2]int{5, 0}},
		{"delivered head is deleted and the next is due", set("slack#1", func(r *model.OutboxRecord) {
			r.State = model.OutboxDelivered
			r.DeliveredAt = t0
		}), t0.Add(time.Hour), 0, []string{"slack#2", "hook#1", "hook-b#1"}, [2]int{4, 0}},
		{"dead head leaves the queue", set("slack#2", func(r *model.OutboxRecord) {
			r.State = model.OutboxDead
		}), t0.Add(time.Hour), 0, []string{"hook#1", "slack#3", "hook-b#1"}, [2]int{3, 1}},
		{"requeued dead record is the head again", set("slack#2", func(r *model.OutboxRecord) {
			r.State = model.OutboxPending
			r.NextAttempt = time.Time{}
		}), t0.Add(time.Hour), 0, []string{"slack#2", "hook#1", "hook-b#1"}, [2]int{4, 0}},
		{"dropping the head releases the next", func(t *testing.T) {
			if err := s.OutboxDrop(recs["slack#2"].ID); err != nil {
				t.Fatal(err)
			}
		}, t0.Add(time.Hour), 0, []string{"hook#1", "slack#3", "hook-b#1"}, [2]int{3, 0}},
		{"zero NextAttempt is due at any time", nil, t0.Add(-time.Hour), 0,
			[]string{"hook#1", "slack#3", "hook-b#1"}, [2]int{3, 0}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.do != nil {
				st.do(t)
			}
			if got := dueNames(t, s, st.now, st.limit); !slices.Equal(got, st.want) {
				t.Errorf("OutboxDue = %v, want %v", got, st.want)
			}
			p, d, err := s.OutboxStats()
			if err != nil || [2]int{p, d} != st.wantPD {
				t.Errorf("OutboxStats = %d pending %d dead (%v), want %v", p, d, err, st.wantPD)
			}
		})
	}
	if got, _ := s.Outbox(model.OutboxDelivered); len(got) != 0 {
		t.Errorf("Outbox(delivered) = %d records, want none (delivered records are deleted)", len(got))
	}
	var order []string
	all, err := s.Outbox("")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		order = append(order, fmt.Sprintf("%s#%d", r.Dest, r.Seq))
	}
	if want := []string{"hook#1", "hook-b#1", "slack#3"}; !slices.Equal(order, want) {
		t.Errorf("Outbox(\"\") = %v, want %v", order, want)
	}
}

func TestOutboxErrors(t *testing.T) {
	s := openTest(t)
	recs := enqueue(t, s, "slack")
	tests := []struct {
		name    string
		run     func() error
		wantErr error
	}{
		{"result for unknown id", func() error { return s.OutboxResult("nope", func(*model.OutboxRecord) {}) }, ErrNotFound},
		{"drop unknown id", func() error { return s.OutboxDrop("nope") }, ErrNotFound},
		{"result changes dest", func() error {
			return s.OutboxResult(recs["slack#1"].ID, func(r *model.OutboxRecord) { r.Dest = "other" })
		}, nil},
		{"result changes seq", func() error {
			return s.OutboxResult(recs["slack#1"].ID, func(r *model.OutboxRecord) { r.Seq = 9 })
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error = %v, want %v", err, tc.wantErr)
			}
		})
	}
	if got := dueNames(t, s, t0, 0); !slices.Equal(got, []string{"slack#1"}) {
		t.Errorf("after rejected results, due = %v, want [slack#1]", got)
	}
}
