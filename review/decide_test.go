package review

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/storage"
)

func TestDecisions(t *testing.T) {
	ctx := context.Background()
	const a, b = "2025-03-01--amazon-wins-ice-contract", "2025-03-02--ice-expands-aws-use"
	tests := []struct {
		name    string
		req     Request
		wantErr error
		check   func(t *testing.T, st *storage.Store, res Result)
	}{
		{name: "accept with edit", req: Request{Action: model.ActionAccept, ID: a, Version: 1, Who: "alice",
			Edit: Edit{Title: "Amazon wins an ICE cloud contract", Date: "2025-03-02", Importance: 8, Status: "confirmed",
				Actors: []string{" ICE ", "Amazon", "ICE"}, Tags: []string{}, Summary: "  Summary text.  "}},
			check: func(t *testing.T, st *storage.Store, res Result) {
				c := mustGet(t, st, a)
				if c.Status != model.StatusAccepted || c.Title != "Amazon wins an ICE cloud contract" || c.Date != "2025-03-02" ||
					c.Importance != 8 || c.EventStatus != "confirmed" || c.Summary != "Summary text." || c.Version != 2 {
					t.Errorf("candidate = %+v", c)
				}
				if !slices.Equal(c.Actors, []string{"ICE", "Amazon"}) || c.Tags == nil || len(c.Tags) != 0 {
					t.Errorf("actors %q tags %q", c.Actors, c.Tags)
				}
				d := res.Decision
				if d.Who != "alice" || !d.At.Equal(testNow) || d.Action != "accept" || len(d.Before) != 1 || d.Before[0].Version != 1 ||
					!strings.Contains(d.Reason, "title, date, importance, status, actors, tags, summary") {
					t.Errorf("decision = %+v", d)
				}
			}},
		{name: "reject with reason", req: Request{Action: model.ActionReject, ID: a, Version: 1, Who: "bob", Reason: "not about ICE"},
			check: func(t *testing.T, st *storage.Store, res Result) {
				if c := mustGet(t, st, a); c.Status != model.StatusRejected {
					t.Errorf("status = %s", c.Status)
				}
				if res.Decision.Reason != "not about ICE" {
					t.Errorf("reason = %q", res.Decision.Reason)
				}
			}},
		{name: "snooze", req: Request{Action: model.ActionSnooze, ID: a, Version: 1, Who: "bob", Until: testNow.Add(48 * time.Hour)},
			check: func(t *testing.T, st *storage.Store, _ Result) {
				c := mustGet(t, st, a)
				if c.Status != model.StatusSnoozed || !c.SnoozeUntil.Equal(testNow.Add(48*time.Hour)) {
					t.Errorf("status %s until %s", c.Status, c.SnoozeUntil)
				}
				if n, err := st.WakeSnoozed(testNow.Add(49 * time.Hour)); err != nil || n != 1 {
					t.Errorf("WakeSnoozed = %d, %v; want 1", n, err)
				}
				if c := mustGet(t, st, a); c.Status != model.StatusPending {
					t.Errorf("after waking, status = %s", c.Status)
				}
			}},
		{name: "duplicate moves sources and keys", req: Request{Action: model.ActionDuplicate, ID: a, Version: 1, Who: "carol", Target: b},
			check: func(t *testing.T, st *storage.Store, res Result) {
				dup, tgt := mustGet(t, st, a), mustGet(t, st, b)
				if dup.Status != model.StatusDuplicate || dup.DuplicateOf != b || len(dup.Sources) != 0 || len(dup.Keys) != 0 {
					t.Errorf("duplicate = %+v", dup)
				}
				if len(tgt.Sources) != 4 || len(tgt.Matches) != 2 || !slices.Contains(tgt.Keys, "url:https://www.reuters.com/"+a) {
					t.Errorf("target sources %d matches %d keys %q", len(tgt.Sources), len(tgt.Matches), tgt.Keys)
				}
				err := st.Update(func(tx *storage.Tx) error {
					c, err := tx.CandidateByKey("url:https://www.reuters.com/" + a)
					if err == nil && (c == nil || c.ID != b) {
						t.Errorf("key of the duplicate belongs to %v, want %s", c, b)
					}
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Decision.Before) != 2 || res.Decision.Target != b {
					t.Errorf("decision = %+v", res.Decision)
				}
			}},
		{name: "edit keeps status", req: Request{Action: model.ActionEdit, ID: a, Version: 1, Who: "alice", Edit: Edit{Importance: 3}},
			check: func(t *testing.T, st *storage.Store, _ Result) {
				if c := mustGet(t, st, a); c.Status != model.StatusPending || c.Importance != 3 {
					t.Errorf("status %s importance %d", c.Status, c.Importance)
				}
			}},
		{name: "version 0 skips the check", req: Request{Action: model.ActionReject, ID: a, Who: "alice"}},
		{name: "stale version", req: Request{Action: model.ActionAccept, ID: a, Version: 7, Who: "alice"}, wantErr: storage.ErrStale},
		{name: "unknown id", req: Request{Action: model.ActionAccept, ID: "2025-01-01--nope", Who: "alice"}, wantErr: storage.ErrNotFound},
		{name: "unknown target", req: Request{Action: model.ActionDuplicate, ID: a, Who: "alice", Target: "2025-01-01--nope"}, wantErr: storage.ErrNotFound},
		{name: "duplicate of itself", req: Request{Action: model.ActionDuplicate, ID: a, Who: "alice", Target: a}, wantErr: ErrInvalid},
		{name: "bad date", req: Request{Action: model.ActionAccept, ID: a, Who: "alice", Edit: Edit{Date: "2025-02-30"}}, wantErr: ErrInvalid},
		{name: "importance out of range", req: Request{Action: model.ActionAccept, ID: a, Who: "alice", Edit: Edit{Importance: 11}}, wantErr: ErrInvalid},
		{name: "unknown status", req: Request{Action: model.ActionAccept, ID: a, Who: "alice", Edit: Edit{Status: "rumoured"}}, wantErr: ErrInvalid},
		{name: "short title", req: Request{Action: model.ActionAccept, ID: a, Who: "alice", Edit: Edit{Title: "Short"}}, wantErr: ErrInvalid},
		{name: "snooze into the past", req: Request{Action: model.ActionSnooze, ID: a, Who: "alice", Until: testNow.Add(-time.Minute)}, wantErr: ErrInvalid},
		{name: "no reviewer", req: Request{Action: model.ActionReject, ID: a}, wantErr: ErrInvalid},
		{name: "empty edit", req: Request{Action: model.ActionEdit, ID: a, Who: "alice"}, wantErr: ErrInvalid},
		{name: "unknown action", req: Request{Action: "promote", ID: a, Who: "alice"}, wantErr: ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			seed(t, st, cand(a, "Amazon wins ICE contract", 5), cand(b, "ICE expands AWS use", 4))
			q := newQueue(st)
			res, err := q.Do(ctx, tt.req)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				// Nothing changed: versions and the log are as seeded.
				if c := mustGet(t, st, a); c.Version != 1 || c.Status != model.StatusPending {
					t.Errorf("after a failed decision: version %d status %s", c.Version, c.Status)
				}
				if ds, _ := st.Decisions(""); len(ds) != 0 {
					t.Errorf("decisions logged: %+v", ds)
				}
				return
			}
			if err != nil {
				t.Fatalf("decide: %v", err)
			}
			if ds, _ := st.Decisions(tt.req.ID); len(ds) != 1 || ds[0].Action != tt.req.Action {
				t.Errorf("decision log = %+v, want one %s", ds, tt.req.Action)
			}
			if tt.check != nil {
				tt.check(t, st, res)
			}
		})
	}
}

func TestStaleMessageNamesBothVersions(t *testing.T) {
	st := openStore(t)
	seed(t, st, cand("2025-03-01--a-candidate-title", "A candidate title", 1))
	_, err := newQueue(st).Reject(context.Background(), "2025-03-01--a-candidate-title", 3, "alice", "")
	if err == nil || !strings.Contains(err.Error(), "version 3") || !strings.Contains(err.Error(), "version 1") {
		t.Fatalf("error = %v, want both versions named", err)
	}
}

func TestDecideTwiceConflicts(t *testing.T) {
	st := openStore(t)
	const id = "2025-03-01--a-candidate-title"
	seed(t, st, cand(id, "A candidate title", 1))
	q := newQueue(st)
	if _, err := q.Accept(context.Background(), id, 1, "alice", Edit{}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Reject(context.Background(), id, 0, "bob", "late"); !errors.Is(err, ErrConflict) {
		t.Fatalf("reject after accept: %v, want ErrConflict", err)
	}
}

func TestUndo(t *testing.T) {
	ctx := context.Background()
	const a, b = "2025-03-01--amazon-wins-ice-contract", "2025-03-02--ice-expands-aws-use"
	tests := []struct {
		name    string
		do      []Request
		between func(t *testing.T, st *storage.Store) // after the decisions, before Undo
		wantErr error
		want    map[string]string // status per candidate after Undo
	}{
		{name: "nothing to undo", wantErr: ErrNothingToUndo},
		{name: "accept", do: []Request{{Action: "accept", ID: a, Who: "x", Edit: Edit{Importance: 9}}},
			want: map[string]string{a: model.StatusPending}},
		{name: "duplicate gives sources and keys back",
			do:   []Request{{Action: "duplicate", ID: a, Who: "x", Target: b}},
			want: map[string]string{a: model.StatusPending, b: model.StatusPending}},
		{name: "two undos go two steps back",
			do:   []Request{{Action: "accept", ID: a, Who: "x"}, {Action: "reject", ID: b, Who: "x"}, {Action: "undo", Who: "x"}},
			want: map[string]string{a: model.StatusPending, b: model.StatusPending}},
		{name: "changed since the decision", do: []Request{{Action: "accept", ID: a, Who: "x"}},
			between: func(t *testing.T, st *storage.Store) {
				if _, err := st.UpdateCandidate(a, 0, func(_ *storage.Tx, c *model.Candidate) error { c.Score++; return nil }); err != nil {
					t.Fatal(err)
				}
			}, wantErr: storage.ErrStale},
		{name: "exported accept", do: []Request{{Action: "accept", ID: a, Who: "x"}},
			between: func(t *testing.T, st *storage.Store) {
				if _, err := newQueue(st).Export(ctx, t.TempDir()); err != nil {
					t.Fatal(err)
				}
			}, wantErr: ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			seeded := seed(t, st, cand(a, "Amazon wins ICE contract", 5), cand(b, "ICE expands AWS use", 4))
			q := newQueue(st)
			for _, r := range tt.do {
				if _, err := q.Do(ctx, r); err != nil {
					t.Fatalf("%s: %v", r.Action, err)
				}
			}
			if tt.between != nil {
				tt.between(t, st)
			}
			res, err := q.Undo(ctx, "undoer")
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("undo error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("undo: %v", err)
			}
			if res.Decision.Action != model.ActionUndo || res.Decision.Who != "undoer" {
				t.Errorf("undo record = %+v", res.Decision)
			}
			for id, status := range tt.want {
				c := mustGet(t, st, id)
				var orig model.Candidate
				for _, s := range seeded {
					if s.ID == id {
						orig = s
					}
				}
				if c.Status != status || len(c.Sources) != len(orig.Sources) || c.Importance != orig.Importance || !slices.Equal(c.Keys, orig.Keys) {
					t.Errorf("%s after undo: status %s sources %d importance %d keys %q", id, c.Status, len(c.Sources), c.Importance, c.Keys)
				}
				if c.Version <= orig.Version {
					t.Errorf("%s version %d, want above %d so stale pages notice", id, c.Version, orig.Version)
				}
			}
			// The grouping keys point home again.
			err = st.Update(func(tx *storage.Tx) error {
				c, err := tx.CandidateByKey("url:https://www.reuters.com/" + a)
				if err == nil && (c == nil || c.ID != a) {
					t.Errorf("key of %s belongs to %v", a, c)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestParseUntil(t *testing.T) {
	tests := []struct {
		name, in string
		want     time.Time
		wantErr  bool
	}{
		{"rfc3339", "2025-03-12T08:00:00Z", time.Date(2025, 3, 12, 8, 0, 0, 0, time.UTC), false},
		{"hours", "48h", testNow.Add(48 * time.Hour), false},
		{"days", "3d", testNow.AddDate(0, 0, 3), false},
		{"negative", "-1h", time.Time{}, true},
		{"days with junk", "3xd", time.Time{}, true},
		{"empty", "", time.Time{}, true},
		{"words", "tomorrow", time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseUntil(tt.in, testNow)
			if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
				t.Errorf("ParseUntil(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
