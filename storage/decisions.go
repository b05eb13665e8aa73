package storage

// Decisions: the append-only log of reviewer actions.
//
// Bucket "decisions":   key = Seq (8 bytes BE, from the bucket's
// NextSequence, so never reused even after Prune), value = JSON
// model.Decision.
// Bucket "dec_by_cand": key = candidate ID + 0x00 + Seq (8 BE), value empty:
// a candidate's decisions in order without scanning the log.
//
// Entries are only appended, rewritten by PutDecision to mark them Undone,
// and deleted by Prune once older than Retention.Decisions.

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tierwatch/tierwatch/model"
)

// AppendDecision appends d to the log with the next Seq and returns it as
// stored. d.CandidateID must be set.
func (tx *Tx) AppendDecision(d model.Decision) (model.Decision, error) {
	if err := checkName("candidate id", d.CandidateID); err != nil {
		return model.Decision{}, fmt.Errorf("append decision %s: %w", d.Action, err)
	}
	b, err := tx.bucket(bucketDecisions)
	if err != nil {
		return model.Decision{}, fmt.Errorf("append decision %s %s: %w", d.Action, d.CandidateID, err)
	}
	if d.Seq, err = b.NextSequence(); err != nil {
		return model.Decision{}, fmt.Errorf("append decision %s %s: %w", d.Action, d.CandidateID, err)
	}
	if err := tx.putDecision(d); err != nil {
		return model.Decision{}, fmt.Errorf("append decision %s %s: %w", d.Action, d.CandidateID, err)
	}
	return d, nil
}

// putDecision writes d and its index entry.
func (tx *Tx) putDecision(d model.Decision) error {
	b, err := tx.bucket(bucketDecisions)
	if err != nil {
		return err
	}
	idx, err := tx.bucket(bucketDecByCand)
	if err != nil {
		return err
	}
	if err := idx.Put(joinKey(d.CandidateID, u64(d.Seq)), []byte{}); err != nil {
		return err
	}
	return putJSON(b, u64(d.Seq), d)
}

// LastDecision returns the latest decision on candidateID ("" = on any
// candidate) that is not marked Undone, whatever its action, or nil, nil
// when there is none.
func (tx *Tx) LastDecision(candidateID string) (*model.Decision, error) {
	b, err := tx.bucket(bucketDecisions)
	if err != nil {
		return nil, err
	}
	idx, err := tx.bucket(bucketDecByCand)
	if err != nil {
		return nil, err
	}
	check := func(seq []byte) (*model.Decision, error) {
		var d model.Decision
		ok, err := getJSON(b, seq, &d)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("index entry %d has no decision", be64(seq))
		}
		if d.Undone {
			return nil, nil
		}
		return &d, nil
	}
	if candidateID == "" {
		c := b.Cursor()
		for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
			if d, err := check(k); d != nil || err != nil {
				return d, wrapLast(candidateID, err)
			}
		}
		return nil, nil
	}
	prefix := prefixOf(candidateID)
	c := idx.Cursor()
	// Position after the candidate's last key (0x01 follows the separator),
	// then walk back.
	k, _ := c.Seek(append([]byte(candidateID), sep+1))
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
		if d, err := check(k[len(prefix):]); d != nil || err != nil {
			return d, wrapLast(candidateID, err)
		}
	}
	return nil, nil
}

func wrapLast(candidateID string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("last decision %q: %w", candidateID, err)
}

// PutDecision rewrites the stored decision d.Seq (to mark it Undone). It
// returns ErrNotFound for an unknown Seq; CandidateID must not change.
func (tx *Tx) PutDecision(d model.Decision) error {
	b, err := tx.bucket(bucketDecisions)
	if err != nil {
		return fmt.Errorf("put decision %d: %w", d.Seq, err)
	}
	var old model.Decision
	ok, err := getJSON(b, u64(d.Seq), &old)
	if err != nil {
		return fmt.Errorf("put decision %d: %w", d.Seq, err)
	}
	if !ok {
		return fmt.Errorf("put decision %d: %w", d.Seq, ErrNotFound)
	}
	if old.CandidateID != d.CandidateID {
		return fmt.Errorf("put decision %d: candidate id changed from %q to %q", d.Seq, old.CandidateID, d.CandidateID)
	}
	if err := tx.putDecision(d); err != nil {
		return fmt.Errorf("put decision %d: %w", d.Seq, err)
	}
	return nil
}

// Decisions returns the decisions on candidateID ("" = all) in Seq order.
// A candidate without decisions yields an empty list, not an error.
func (s *Store) Decisions(candidateID string) ([]model.Decision, error) {
	var out []model.Decision
	err := s.view(func(tx *Tx) error {
		b, err := tx.bucket(bucketDecisions)
		if err != nil {
			return err
		}
		if candidateID == "" {
			return b.ForEach(func(k, _ []byte) error {
				var d model.Decision
				if _, err := getJSON(b, k, &d); err != nil {
					return err
				}
				out = append(out, d)
				return nil
			})
		}
		idx, err := tx.bucket(bucketDecByCand)
		if err != nil {
			return err
		}
		prefix := prefixOf(candidateID)
		c := idx.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			var d model.Decision
			ok, err := getJSON(b, k[len(prefix):], &d)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("index entry %q has no decision", k)
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list decisions %q: %w", candidateID, err)
	}
	return out, nil
}

// pruneDecisions scans up to scan decisions from `from` and deletes
// those made before cutoff, with their index entries. It returns where to
// resume (nil when the log is exhausted).
func pruneDecisions(btx *bolt.Tx, cutoff time.Time, from []byte, scan int) (n int, next []byte, err error) {
	b, idx := btx.Bucket(bucketDecisions), btx.Bucket(bucketDecByCand)
	if b == nil || idx == nil {
		return 0, nil, errors.New("decision buckets missing")
	}
	type victim struct{ seq, index []byte }
	var victims []victim
	c := b.Cursor()
	k, v := c.First()
	if from != nil {
		k, v = c.Seek(from)
	}
	for scanned := 0; k != nil; k, v = c.Next() {
		if scanned == scan {
			next = bytes.Clone(k)
			break
		}
		scanned++
		var d struct {
			CandidateID string    `json:"candidate_id"`
			At          time.Time `json:"at"`
		}
		if err := decodeJSON(k, v, &d); err != nil {
			return 0, nil, err
		}
		if d.At.Before(cutoff) {
			victims = append(victims, victim{bytes.Clone(k), joinKey(d.CandidateID, k)})
		}
	}
	for _, vic := range victims {
		if err := idx.Delete(vic.index); err != nil {
			return n, nil, err
		}
		if err := b.Delete(vic.seq); err != nil {
			return n, nil, err
		}
		n++
	}
	return n, next, nil
}
