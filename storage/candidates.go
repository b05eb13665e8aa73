package storage

// Candidates and their indexes.
//
// Bucket "candidates":  key = candidate ID ("YYYY-MM-DD--slug", made unique
// with "-2", "-3"…), value = JSON model.Candidate.
// Bucket "cand_keys":   key = a grouping key from Candidate.Keys
// ("url:…", "piid:…"; keys over 512 bytes by their SHA-256), value = the ID
// of the first candidate that claimed it. Later candidates never steal a
// key; a candidate that drops a key from Keys releases it.
// Bucket "cand_status": key = status + 0x00 + ID, value empty.
// Bucket "cand_open":   key = timeKey(LastSeen) + ID, value empty, only for
// open candidates (pending, snoozed), so OpenCandidatesSince reads a range.

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tierwatch/tierwatch/model"
)

// maxIDSuffix bounds the search for a free "-N" suffix; reaching it means
// something creates candidates in a loop.
const maxIDSuffix = 10000

// groupKey is the cand_keys key of a grouping key; long keys (a URL from a
// hostile feed) are hashed for the same reason as item keys (see itemKey).
func groupKey(key string) []byte {
	if len(key) > maxItemKey {
		sum := sha256.Sum256([]byte(key))
		return []byte("sha256:" + hex.EncodeToString(sum[:]))
	}
	return []byte(key)
}

// loadCandidate decodes the candidate id from b, or returns nil when absent.
func loadCandidate(b *bolt.Bucket, id []byte) (*model.Candidate, error) {
	var c model.Candidate
	ok, err := getJSON(b, id, &c)
	if err != nil || !ok {
		return nil, err
	}
	return &c, nil
}

// Candidate returns a fresh copy of the candidate id, or an error wrapping
// ErrNotFound.
func (tx *Tx) Candidate(id string) (*model.Candidate, error) {
	b, err := tx.bucket(bucketCandidates)
	if err != nil {
		return nil, err
	}
	c, err := loadCandidate(b, []byte(id))
	if err != nil {
		return nil, fmt.Errorf("load candidate %s: %w", id, err)
	}
	if c == nil {
		return nil, fmt.Errorf("load candidate %s: %w", id, ErrNotFound)
	}
	return c, nil
}

// CandidateByKey returns the candidate that claimed the grouping key (for
// example "url:https://…" or "piid:…"), or nil, nil when none did.
func (tx *Tx) CandidateByKey(key string) (*model.Candidate, error) {
	keys, err := tx.bucket(bucketCandKeys)
	if err != nil {
		return nil, err
	}
	if key == "" {
		return nil, nil
	}
	id := keys.Get(groupKey(key))
	if id == nil {
		return nil, nil
	}
	c, err := tx.Candidate(string(id))
	if err != nil {
		return nil, fmt.Errorf("candidate by key %s: %w", key, err)
	}
	return c, nil
}

// OpenCandidatesSince returns the open candidates (pending or snoozed) whose
// LastSeen is at or after t, oldest LastSeen first. In a read transaction
// they are fresh copies. In a write transaction they come from a cache of
// decoded candidates (see candcache.go) and may be shared with later calls:
// a caller may change one only to pass it to PutCandidate in the same
// transaction, and must use Candidate for a private copy.
func (tx *Tx) OpenCandidatesSince(t time.Time) ([]*model.Candidate, error) {
	open, err := tx.bucket(bucketCandOpen)
	if err != nil {
		return nil, err
	}
	cands, err := tx.bucket(bucketCandidates)
	if err != nil {
		return nil, err
	}
	var out []*model.Candidate
	shared := tx.tx.Writable()
	var visited map[string]bool
	if shared {
		visited = map[string]bool{}
	}
	c := open.Cursor()
	for k, _ := c.Seek(timeKey(t)); k != nil; k, _ = c.Next() {
		if len(k) <= 8 {
			return nil, fmt.Errorf("open candidates: bad index key %q", k)
		}
		var cand *model.Candidate
		var err error
		if shared {
			visited[string(k[8:])] = true
			cand, err = tx.s.cands.load(cands, k[8:])
		} else {
			cand, err = loadCandidate(cands, k[8:])
		}
		if err != nil {
			return nil, fmt.Errorf("open candidates: %w", err)
		}
		if cand == nil {
			return nil, fmt.Errorf("open candidates: index entry %q has no candidate", k)
		}
		out = append(out, cand)
	}
	if shared {
		tx.s.cands.retain(visited)
	}
	return out, nil
}

// PutCandidate saves c and maintains the key, status and open indexes.
//
// A new candidate (Version 0) gets a unique ID: c.ID if free, else c.ID
// with "-2", "-3"… appended, and Version 1. An existing candidate (Version
// > 0) is saved with its stored Version + 1; one with Version > 0 that is
// not stored (a restore) is saved as given. PutCandidate updates c.ID and
// c.Version in place. Every entry of c.Keys not claimed by another
// candidate is indexed to c.ID; keys c no longer lists are released.
func (tx *Tx) PutCandidate(c *model.Candidate) error {
	if c == nil {
		return errors.New("put candidate: nil")
	}
	if err := checkName("candidate id", c.ID); err != nil {
		return fmt.Errorf("put candidate: %w", err)
	}
	b, err := tx.bucket(bucketCandidates)
	if err != nil {
		return fmt.Errorf("put candidate %s: %w", c.ID, err)
	}
	var old *model.Candidate
	if c.Version == 0 {
		id := c.ID
		for n := 2; b.Get([]byte(id)) != nil; n++ {
			if n > maxIDSuffix {
				return fmt.Errorf("put candidate %s: no free id suffix up to %d", c.ID, maxIDSuffix)
			}
			id = fmt.Sprintf("%s-%d", c.ID, n)
		}
		c.ID, c.Version = id, 1
	} else {
		// saveCandidate needs only the stored version's index fields; the
		// cache has them when it holds the stored bytes.
		if old = tx.s.cands.stored(b, []byte(c.ID)); old == nil {
			if old, err = loadCandidate(b, []byte(c.ID)); err != nil {
				return fmt.Errorf("put candidate %s: %w", c.ID, err)
			}
		}
		if old != nil {
			c.Version = old.Version + 1
		}
	}
	// c may be the cache's object for this ID, changed by the caller and so
	// no longer its bytes; old never aliases it (a fresh decode or a copy of
	// the index fields taken when the bytes were decoded).
	tx.s.cands.drop(c.ID)
	if err := tx.saveCandidate(old, c); err != nil {
		return fmt.Errorf("put candidate %s: %w", c.ID, err)
	}
	return nil
}

// saveCandidate writes c and moves its index entries from old's (nil for a
// new candidate) to c's. c.Version must already be set.
func (tx *Tx) saveCandidate(old, c *model.Candidate) error {
	if strings.IndexByte(c.Status, sep) >= 0 {
		return fmt.Errorf("status %q contains a NUL byte", c.Status)
	}
	cands, err := tx.bucket(bucketCandidates)
	if err != nil {
		return err
	}
	keys, err := tx.bucket(bucketCandKeys)
	if err != nil {
		return err
	}
	status, err := tx.bucket(bucketCandStatus)
	if err != nil {
		return err
	}
	open, err := tx.bucket(bucketCandOpen)
	if err != nil {
		return err
	}
	id := []byte(c.ID)
	if old != nil {
		for _, k := range old.Keys {
			if k == "" || slices.Contains(c.Keys, k) {
				continue
			}
			if gk := groupKey(k); bytes.Equal(keys.Get(gk), id) {
				if err := keys.Delete(gk); err != nil {
					return err
				}
			}
		}
		if err := status.Delete(joinKey(old.Status, id)); err != nil {
			return err
		}
		if old.IsOpen() {
			if err := open.Delete(append(timeKey(old.LastSeen), id...)); err != nil {
				return err
			}
		}
	}
	for _, k := range c.Keys {
		if k == "" {
			continue
		}
		if gk := groupKey(k); keys.Get(gk) == nil {
			if err := keys.Put(gk, id); err != nil {
				return err
			}
		}
	}
	if err := status.Put(joinKey(c.Status, id), []byte{}); err != nil {
		return err
	}
	if c.IsOpen() {
		if err := open.Put(append(timeKey(c.LastSeen), id...), []byte{}); err != nil {
			return err
		}
	}
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode %q: %w", id, err)
	}
	if err := cands.Put(id, data); err != nil {
		return err
	}
	// The next OpenCandidatesSince would decode these bytes again; a joined
	// candidate is saved once per source, so that decode grew with the
	// candidate's size times its sources. A private copy is cheaper.
	tx.s.cands.store(c.ID, data, cloneCandidate(c))
	return nil
}

// Candidate returns the candidate id, or an error wrapping ErrNotFound.
func (s *Store) Candidate(id string) (model.Candidate, error) {
	var c *model.Candidate
	err := s.view(func(tx *Tx) error {
		var err error
		c, err = tx.Candidate(id)
		return err
	})
	if err != nil {
		return model.Candidate{}, err
	}
	return *c, nil
}

// Candidates returns the candidates with the given status ("" = all),
// sorted by Score descending, then ID.
func (s *Store) Candidates(status string) ([]model.Candidate, error) {
	var out []model.Candidate
	err := s.view(func(tx *Tx) error {
		cands, err := tx.bucket(bucketCandidates)
		if err != nil {
			return err
		}
		if status == "" {
			return cands.ForEach(func(k, _ []byte) error {
				c, err := loadCandidate(cands, k)
				if err != nil {
					return err
				}
				out = append(out, *c)
				return nil
			})
		}
		idx, err := tx.bucket(bucketCandStatus)
		if err != nil {
			return err
		}
		prefix := prefixOf(status)
		cur := idx.Cursor()
		for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
			c, err := loadCandidate(cands, k[len(prefix):])
			if err != nil {
				return err
			}
			if c == nil {
				return fmt.Errorf("status index entry %q has no candidate", k)
			}
			out = append(out, *c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list candidates %q: %w", status, err)
	}
	slices.SortFunc(out, func(a, b model.Candidate) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// UpdateCandidate loads candidate id, lets fn change it and saves it with
// Version + 1, all in one Update, and returns the saved candidate. With
// version != 0 it first checks that the stored Version equals version and
// otherwise returns an error wrapping ErrStale that names both versions;
// version 0 skips the check. A missing candidate gives ErrNotFound. fn must
// not change c.ID; an error from fn rolls everything back and is returned
// wrapped.
func (s *Store) UpdateCandidate(id string, version int, fn func(tx *Tx, c *model.Candidate) error) (model.Candidate, error) {
	var out model.Candidate
	err := s.update(func(tx *Tx) error {
		c, err := tx.Candidate(id)
		if err != nil {
			return err
		}
		if version != 0 && version != c.Version {
			return fmt.Errorf("%w: have version %d, stored version %d", ErrStale, version, c.Version)
		}
		if err := fn(tx, c); err != nil {
			return err
		}
		if c.ID != id {
			return fmt.Errorf("callback changed the id to %q", c.ID)
		}
		// Reload: fn may itself have saved this candidate through tx.
		old, err := tx.Candidate(id)
		if err != nil {
			return err
		}
		c.Version = old.Version + 1
		if err := tx.saveCandidate(old, c); err != nil {
			return err
		}
		out = *c
		return nil
	})
	if err != nil {
		return model.Candidate{}, fmt.Errorf("update candidate %s: %w", id, err)
	}
	return out, nil
}

// WakeSnoozed moves every snoozed candidate whose SnoozeUntil is at or
// before now back to pending (clearing SnoozeUntil, adding a "woken" history
// entry, Version + 1) in one Update, and returns how many it woke.
func (s *Store) WakeSnoozed(now time.Time) (int, error) {
	n := 0
	err := s.update(func(tx *Tx) error {
		idx, err := tx.bucket(bucketCandStatus)
		if err != nil {
			return err
		}
		prefix := prefixOf(model.StatusSnoozed)
		var ids []string
		cur := idx.Cursor()
		for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
			ids = append(ids, string(k[len(prefix):]))
		}
		// Saving changes the status index, so only after the scan.
		for _, id := range ids {
			c, err := tx.Candidate(id)
			if err != nil {
				return err
			}
			if c.SnoozeUntil.After(now) {
				continue
			}
			old := *c
			c.Status = model.StatusPending
			c.SnoozeUntil = time.Time{}
			c.AddHistory(model.HistoryEntry{At: now, Kind: "woken"})
			c.Version++
			if err := tx.saveCandidate(&old, c); err != nil {
				return fmt.Errorf("candidate %s: %w", id, err)
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("wake snoozed candidates: %w", err)
	}
	return n, nil
}
