package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

// Admin is what the outbox commands need of the store; *storage.Store
// implements it.
type Admin interface {
	Outbox(state string) ([]model.OutboxRecord, error)
	OutboxResult(id string, fn func(*model.OutboxRecord)) error
	OutboxDrop(id string) error
}

// ListOutbox writes recs to w: a table, or a JSON array when asJSON.
// Errors are shown cut to 60 characters in the table and in full in JSON.
// The records may come from the store or from the daemon's API.
func ListOutbox(w io.Writer, recs []model.OutboxRecord, asJSON bool) error {
	if asJSON {
		if recs == nil {
			recs = []model.OutboxRecord{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(recs)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tDEST\tSEQ\tSTATE\tEVENT\tCANDIDATE\tATTEMPTS\tNEXT ATTEMPT\tLAST ERROR")
	for _, r := range recs {
		next := "-"
		if !r.NextAttempt.IsZero() && r.State == model.OutboxPending {
			next = r.NextAttempt.UTC().Format(time.RFC3339)
		}
		subject := r.CandidateID
		if subject == "" {
			subject = r.Source
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%d\t%s\t%s\n", r.ID, r.Dest, r.Seq, r.State, r.Event, subject, r.Attempts, next, Truncate(r.LastError, 60))
	}
	return tw.Flush()
}

// RetryOutbox puts dead records back to pending with their attempts reset,
// due at now: record id, or every dead record when id is "". It returns how
// many were requeued; a record that is not dead is left alone and is an
// error when named.
func RetryOutbox(a Admin, id string, now time.Time) (int, error) {
	ids := []string{id}
	if id == "" {
		dead, err := a.Outbox(model.OutboxDead)
		if err != nil {
			return 0, err
		}
		ids = ids[:0]
		for _, r := range dead {
			ids = append(ids, r.ID)
		}
	}
	n := 0
	for _, rid := range ids {
		var was string
		err := a.OutboxResult(rid, func(r *model.OutboxRecord) {
			was = r.State
			if r.State != model.OutboxDead {
				return
			}
			r.State = model.OutboxPending
			r.Attempts = 0
			r.NextAttempt = now
		})
		if err != nil {
			return n, fmt.Errorf("retry outbox record %s: %w", rid, err)
		}
		if was != model.OutboxDead {
			return n, fmt.Errorf("retry outbox record %s: it is %s, %w", rid, was, ErrNotDead)
		}
		n++
	}
	return n, nil
}

// ErrNotDead is returned (wrapped) by RetryOutbox for a named record that
// is not dead: only dead records are retried.
var ErrNotDead = errors.New("not dead")

// DropOutbox deletes record id whatever its state.
func DropOutbox(a Admin, id string) error { return a.OutboxDrop(id) }

// SampleCandidate is the candidate `tierwatch notify test` sends: plainly
// marked as a test so nobody acts on it.
func SampleCandidate(now time.Time) model.Candidate {
	return model.Candidate{
		ID:     now.UTC().Format("2006-01-02") + "--tierwatch-test-alert",
		Status: model.StatusPending, Score: 42, Importance: 3,
		Date:  now.UTC().Format("2006-01-02"),
		Title: "tierwatch test alert: ignore (destination check)",
		Rules: []string{"test"}, Actors: []string{"tierwatch"},
		Sources: []model.Ref{{URL: "https://example.com/tierwatch-test", Title: "tierwatch test alert",
			Publisher: "tierwatch", Date: now.UTC().Format("2006-01-02"), Tier: 1}},
		Summary:   "This message checks that tierwatch can reach this destination.",
		FirstSeen: now, LastSeen: now, Version: 1,
	}
}

// Test sends a sample alert through n, outside the outbox, and returns the
// receiver's answer (also on failure, when one arrived). Its record ID is
// fresh per call so deduping receivers show every test.
func Test(ctx context.Context, n Notifier) (Receipt, error) {
	now := time.Now()
	c := SampleCandidate(now)
	rec := model.OutboxRecord{
		ID: fmt.Sprintf("test_%d", now.UnixNano()), Dest: n.Name(), Event: model.AlertCreated,
		CandidateID: c.ID, CreatedAt: now, State: model.OutboxPending,
	}
	return n.Send(ctx, Message{Record: rec, Candidate: &c, Records: []model.OutboxRecord{rec}})
}
