package storage

// Outbox: alerts waiting for delivery, one record per destination.
//
// Bucket "outbox":         key = record ID (32 hex digits, random unless the
// caller set one), value = JSON model.OutboxRecord.
// Bucket "outbox_pending": key = dest + 0x00 + Seq (8 bytes BE), value = ID,
// only for pending records: the first key of each dest is the one record of
// that dest that may be sent next, which keeps delivery in order.
// Bucket "outbox_seq":     key = dest, value = the dest's last Seq (8 BE).
//
// Delivered records are deleted, not kept: the outbox holds only work
// (pending) and dead letters (dead) for an operator to retry or drop.
// Receivers dedupe on the ID, and notify logs each delivery.

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tierwatch/tierwatch/model"
	bolt "go.etcd.io/bbolt"
)

// Enqueue adds r to the outbox in the caller's transaction. It sets r.ID to
// 32 random hex digits unless set (a set ID must be new), r.Seq to the next
// number of r.Dest (starting at 1, never reused), r.State to pending and a
// zero r.CreatedAt to the store's clock.
func (tx *Tx) Enqueue(r model.OutboxRecord) error {
	if err := checkName("destination", r.Dest); err != nil {
		return fmt.Errorf("enqueue %s: %w", r.Event, err)
	}
	b, err := tx.bucket(bucketOutbox)
	if err != nil {
		return fmt.Errorf("enqueue %s for %s: %w", r.Event, r.Dest, err)
	}
	seqs, err := tx.bucket(bucketOutboxSeq)
	if err != nil {
		return fmt.Errorf("enqueue %s for %s: %w", r.Event, r.Dest, err)
	}
	pending, err := tx.bucket(bucketOutboxPending)
	if err != nil {
		return fmt.Errorf("enqueue %s for %s: %w", r.Event, r.Dest, err)
	}
	if r.ID == "" {
		var raw [16]byte
		// crypto/rand.Read never returns an error (it aborts the
		// program if the OS source fails), see its documentation.
		_, _ = rand.Read(raw[:])
		r.ID = hex.EncodeToString(raw[:])
	} else if b.Get([]byte(r.ID)) != nil {
		return fmt.Errorf("enqueue %s for %s: record %s already exists", r.Event, r.Dest, r.ID)
	}
	r.Seq = be64(seqs.Get([]byte(r.Dest))) + 1
	r.State = model.OutboxPending
	if r.CreatedAt.IsZero() {
		r.CreatedAt = tx.s.now().UTC()
	}
	if err := seqs.Put([]byte(r.Dest), u64(r.Seq)); err != nil {
		return fmt.Errorf("enqueue %s for %s: %w", r.Event, r.Dest, err)
	}
	if err := pending.Put(joinKey(r.Dest, u64(r.Seq)), []byte(r.ID)); err != nil {
		return fmt.Errorf("enqueue %s for %s: %w", r.Event, r.Dest, err)
	}
	if err := putJSON(b, []byte(r.ID), r); err != nil {
		return fmt.Errorf("enqueue %s for %s: %w", r.Event, r.Dest, err)
	}
	return nil
}

// OutboxDue returns what the dispatcher may send now: for each destination
// only its lowest-Seq pending record (a later record waits while an earlier
// one is retried), and only if its NextAttempt is at or before now. The
// result is ordered by CreatedAt (then Dest) and holds at most limit
// records (limit <= 0: no limit).
func (s *Store) OutboxDue(now time.Time, limit int) ([]model.OutboxRecord, error) {
	var due []model.OutboxRecord
	err := s.view(func(tx *Tx) error {
		b, err := tx.bucket(bucketOutbox)
		if err != nil {
			return err
		}
		pending, err := tx.bucket(bucketOutboxPending)
		if err != nil {
			return err
		}
		c := pending.Cursor()
		for k, v := c.First(); k != nil; {
			i := bytes.IndexByte(k, sep)
			if i < 0 {
				return fmt.Errorf("bad pending key %q", k)
			}
			var r model.OutboxRecord
			ok, err := getJSON(b, v, &r)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("pending entry %q has no record", k)
			}
			if !r.NextAttempt.After(now) {
				due = append(due, r)
			}
			// Jump past every key of this dest: they all start with
			// dest+0x00, and any other dest sorts at or after dest+0x01.
			next := append(bytes.Clone(k[:i]), sep+1)
			k, v = c.Seek(next)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list due outbox records: %w", err)
	}
	slices.SortFunc(due, func(a, b model.OutboxRecord) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Dest, b.Dest)
	})
	if limit > 0 && len(due) > limit {
		due = due[:limit]
	}
	return due, nil
}

// outboxRecord loads record id with the record and pending-index buckets
// that a change of it writes; a missing record gives ErrNotFound.
func (tx *Tx) outboxRecord(id string) (records, pending *bolt.Bucket, r model.OutboxRecord, err error) {
	if records, err = tx.bucket(bucketOutbox); err != nil {
		return nil, nil, r, err
	}
	if pending, err = tx.bucket(bucketOutboxPending); err != nil {
		return nil, nil, r, err
	}
	ok, err := getJSON(records, []byte(id), &r)
	if err == nil && !ok {
		err = ErrNotFound
	}
	return records, pending, r, err
}

// OutboxResult loads record id, lets fn record a delivery attempt (State,
// Attempts, NextAttempt, LastError, DeliveredAt) and saves it in one
// Update. A record fn marks delivered is deleted; one marked dead leaves
// the dest's queue, so the next record of that dest becomes due; setting a
// dead record back to pending requeues it at its old Seq. fn must not change
// ID, Dest or Seq. A missing record gives ErrNotFound.
func (s *Store) OutboxResult(id string, fn func(r *model.OutboxRecord)) error {
	err := s.update(func(tx *Tx) error {
		b, pending, r, err := tx.outboxRecord(id)
		if err != nil {
			return err
		}
		old := r
		fn(&r)
		if r.ID != old.ID || r.Dest != old.Dest || r.Seq != old.Seq {
			return fmt.Errorf("callback changed id, dest or seq")
		}
		pk := joinKey(r.Dest, u64(r.Seq))
		if old.State == model.OutboxPending && r.State != model.OutboxPending {
			if err := pending.Delete(pk); err != nil {
				return err
			}
		}
		if r.State == model.OutboxDelivered {
			return b.Delete([]byte(id))
		}
		if r.State == model.OutboxPending && old.State != model.OutboxPending {
			if err := pending.Put(pk, []byte(id)); err != nil {
				return err
			}
		}
		return putJSON(b, []byte(id), r)
	})
	if err != nil {
		return fmt.Errorf("save outbox result %s: %w", id, err)
	}
	return nil
}

// Outbox returns the records in the given state ("" = all), sorted by
// Dest, then Seq. Delivered records are not kept, so "delivered" yields
// none.
func (s *Store) Outbox(state string) ([]model.OutboxRecord, error) {
	var out []model.OutboxRecord
	err := s.view(func(tx *Tx) error {
		b, err := tx.bucket(bucketOutbox)
		if err != nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			var r model.OutboxRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode %q: %w", k, err)
			}
			if state == "" || r.State == state {
				out = append(out, r)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list outbox %q: %w", state, err)
	}
	slices.SortFunc(out, func(a, b model.OutboxRecord) int {
		if c := strings.Compare(a.Dest, b.Dest); c != 0 {
			return c
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
	return out, nil
}

// OutboxDrop deletes record id whatever its state (an operator dropping a
// dead letter, or a pending alert nobody wants). A missing record gives
// ErrNotFound.
func (s *Store) OutboxDrop(id string) error {
	err := s.update(func(tx *Tx) error {
		b, pending, r, err := tx.outboxRecord(id)
		if err != nil {
			return err
		}
		if r.State == model.OutboxPending {
			if err := pending.Delete(joinKey(r.Dest, u64(r.Seq))); err != nil {
				return err
			}
		}
		return b.Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("drop outbox record %s: %w", id, err)
	}
	return nil
}

// OutboxStats counts pending and dead records (for metrics and `status`).
func (s *Store) OutboxStats() (pending, dead int, err error) {
	err = s.view(func(tx *Tx) error {
		b, err := tx.bucket(bucketOutbox)
		if err != nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			var r struct {
				State string `json:"state"`
			}
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode %q: %w", k, err)
			}
			switch r.State {
			case model.OutboxPending:
				pending++
			case model.OutboxDead:
				dead++
			}
			return nil
		})
	})
	if err != nil {
		return 0, 0, fmt.Errorf("count outbox records: %w", err)
	}
	return pending, dead, nil
}
