package notifytest

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

// ErrNotFound is returned when a record or candidate id is unknown.
var ErrNotFound = errors.New("not found")

// Outbox is an in-memory outbox following storage.Store's contract: per
// destination only the lowest-Seq pending record is due, delivered records
// are deleted, dead ones stay until retried or dropped.
type Outbox struct {
	mu    sync.Mutex // guards all fields
	recs  map[string]model.OutboxRecord
	seq   map[string]uint64
	cands map[string]model.Candidate
	ids   int
}

// NewOutbox returns an empty outbox.
func NewOutbox() *Outbox {
	return &Outbox{recs: map[string]model.OutboxRecord{}, seq: map[string]uint64{}, cands: map[string]model.Candidate{}}
}

// PutCandidate stores c for Candidate lookups.
func (o *Outbox) PutCandidate(c model.Candidate) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.cands[c.ID] = c
}

// Enqueue adds r as pending with the next Seq of its destination and, when
// unset, an ID "rec-0001"…; it returns the stored record.
func (o *Outbox) Enqueue(r model.OutboxRecord) model.OutboxRecord {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ids++
	if r.ID == "" {
		r.ID = fmt.Sprintf("rec-%04d", o.ids)
	}
	o.seq[r.Dest]++
	r.Seq = o.seq[r.Dest]
	r.State = model.OutboxPending
	o.recs[r.ID] = r
	return r
}

// OutboxDue implements notify.Outbox.
func (o *Outbox) OutboxDue(now time.Time, limit int) ([]model.OutboxRecord, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	head := map[string]model.OutboxRecord{}
	for _, r := range o.recs {
		if r.State != model.OutboxPending {
			continue
		}
		if h, ok := head[r.Dest]; !ok || r.Seq < h.Seq {
			head[r.Dest] = r
		}
	}
	var due []model.OutboxRecord
	for _, r := range head {
		if !r.NextAttempt.After(now) {
			due = append(due, r)
		}
	}
	slices.SortFunc(due, func(a, b model.OutboxRecord) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.Dest, b.Dest))
	})
	if limit > 0 && len(due) > limit {
		due = due[:limit]
	}
	return due, nil
}

// OutboxResult implements notify.Outbox; delivered records are deleted.
func (o *Outbox) OutboxResult(id string, fn func(*model.OutboxRecord)) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	r, ok := o.recs[id]
	if !ok {
		return fmt.Errorf("outbox record %s: %w", id, ErrNotFound)
	}
	fn(&r)
	if r.State == model.OutboxDelivered {
		delete(o.recs, id)
		return nil
	}
	o.recs[id] = r
	return nil
}

// Candidate implements notify.Outbox.
func (o *Outbox) Candidate(id string) (model.Candidate, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	c, ok := o.cands[id]
	if !ok {
		return model.Candidate{}, fmt.Errorf("candidate %s: %w", id, ErrNotFound)
	}
	return c, nil
}

// Outbox lists records in state ("" = all) sorted by Dest, then Seq.
func (o *Outbox) Outbox(state string) ([]model.OutboxRecord, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []model.OutboxRecord
	for _, r := range o.recs {
		if state == "" || r.State == state {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b model.OutboxRecord) int {
		return cmp.Or(strings.Compare(a.Dest, b.Dest), cmp.Compare(a.Seq, b.Seq))
	})
	return out, nil
}

// OutboxDrop deletes record id.
func (o *Outbox) OutboxDrop(id string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.recs[id]; !ok {
		return fmt.Errorf("outbox record %s: %w", id, ErrNotFound)
	}
	delete(o.recs, id)
	return nil
}
