package storage

// Candidates and their indexes.
//
// Bucket "candidates":  key = candidate ID ("YYYY-MM-DD--slug", made unique
// with "-2", "-3"…), value = its head: JSON model.Candidate without
// Sources, Matches and Keys, which live in "cand_parts" (candparts.go).
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

// loadCandidate decodes the candidate id from its head in cands and its
// parts, or returns nil when absent.
func loadCandidate(cands, parts *bolt.Bucket, id []byte) (*model.Candidate, error) {
	head := cands.Get(id)
	if head == nil {
		return nil, nil
	}
	return decodeCandidate(parts, id, head)
}

// candBuckets returns the buckets of candidates and their parts.
func (tx *Tx) candBuckets() (cands, parts *bolt.Bucket, err error) {
	if cands, err = tx.bucket(bucketCandidates); err != nil {
		return nil, nil, err
	}
	if parts, err = tx.bucket(bucketCandParts); err != nil {
		return nil, nil, err
	}
	// Per handle and transaction, so every transaction that writes parts
	// must set it; all of them get the bucket here or in migrateCandidates.
	parts.FillPercent = candPartFill
	return cands, parts, nil
}

// Candidate returns a fresh copy of the candidate id, or an error wrapping
// ErrNotFound.
func (tx *Tx) Candidate(id string) (*model.Candidate, error) {
	cands, parts, err := tx.candBuckets()
	if err != nil {
		return nil, err
	}
	c, err := loadCandidate(cands, parts, []byte(id))
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
// transaction, and must use Candidate for a private copy. The Hits slices
// of their Matches are shared with the cache's record of what is stored:
// a caller may append Matches or give one new Hits, but must not write
// into an existing Hits slice (no caller does; see diskCopy).
func (tx *Tx) OpenCandidatesSince(t time.Time) ([]*model.Candidate, error) {
	open, err := tx.bucket(bucketCandOpen)
	if err != nil {
		return nil, err
	}
	cands, parts, err := tx.candBuckets()
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
			cand, err = tx.s.cands.load(cands, parts, k[8:])
		} else {
			cand, err = loadCandidate(cands, parts, k[8:])
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
// The Hits slices of c's Matches are kept by the store, not copied: the
// caller must not write into them after the call.
func (tx *Tx) PutCandidate(c *model.Candidate) error {
	if c == nil {
		return errors.New("put candidate: nil")
	}
	if err := checkName("candidate id", c.ID); err != nil {
		return fmt.Errorf("put candidate: %w", err)
	}
	b, parts, err := tx.candBuckets()
	if err != nil {
		return fmt.Errorf("put candidate %s: %w", c.ID, err)
	}
	var old *model.Candidate
	var prev *onDisk
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
		// saveCandidate needs the stored version's index fields and lists;
		// the cache has them when it holds the stored head.
		if prev = tx.s.cands.stored(b, []byte(c.ID)); prev != nil {
			old = prev.c
		} else if old, err = loadCandidate(b, parts, []byte(c.ID)); err != nil {
			return fmt.Errorf("put candidate %s: %w", c.ID, err)
		}
		if old != nil {
			c.Version = old.Version + 1
		}
	}
	// c may be the cache's object for this ID, changed by the caller and so
	// no longer what is stored; old never aliases it (a fresh decode or the
	// cache's private copy, which is ours once the entry is dropped).
	tx.s.cands.drop(c.ID)
	if err := tx.saveCandidate(old, c, prev); err != nil {
		return fmt.Errorf("put candidate %s: %w", c.ID, err)
	}
	return nil
}

// saveCandidate writes c and moves its index entries from old's (nil for a
// new candidate) to c's. c.Version must already be set. prev, when not
// nil, is the cache's record of old (prev.c == old), private to this call,
// which the cache extends instead of copying c whole.
//
// Every key of c not claimed by another candidate is claimed for c. Keys c
// already listed when stored are looked up again only when some key was
// released since they last were (prev.keysGen): until a release every
// listed key stays claimed by someone, and looking all of them up made a
// join cost O(keys).
func (tx *Tx) saveCandidate(old, c *model.Candidate, prev *onDisk) error {
	if strings.IndexByte(c.Status, sep) >= 0 {
		return fmt.Errorf("status %q contains a NUL byte", c.Status)
	}
	cands, parts, err := tx.candBuckets()
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
	kept, err := putCandidateParts(parts, old, c)
	if err != nil {
		return err
	}
	// gen is never 0, the keysGen of an entry the cache decoded rather
	// than saved: a key may have been released before this process began.
	gen := tx.s.cands.released.Load() + 1
	claimFrom := 0
	if prev != nil && prev.keysGen == gen {
		claimFrom = kept.Keys
	}
	if old != nil {
		if gone := old.Keys[kept.Keys:]; len(gone) > 0 {
			listed := make(map[string]bool, len(c.Keys))
			for _, k := range c.Keys {
				listed[k] = true
			}
			for _, k := range gone {
				if k == "" || listed[k] {
					continue
				}
				if gk := groupKey(k); bytes.Equal(keys.Get(gk), id) {
					if err := keys.Delete(gk); err != nil {
						return err
					}
					tx.s.cands.released.Add(1)
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
	for _, k := range c.Keys[claimFrom:] {
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
	head, err := encodeHead(c)
	if err != nil {
		return fmt.Errorf("encode %q: %w", id, err)
	}
	if err := cands.Put(id, head); err != nil {
		return err
	}
	// The next OpenCandidatesSince would decode the candidate again; a
	// joined candidate is saved once per source, so that decode grew with
	// the candidate's size times its sources. A private copy is cheaper.
	if prev == nil {
		old = nil
	}
	tx.s.cands.store(c.ID, head, c.Clone(), &onDisk{c: diskCopy(old, c, kept), keysGen: gen})
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
		cands, parts, err := tx.candBuckets()
		if err != nil {
			return err
		}
		if status == "" {
			return cands.ForEach(func(k, v []byte) error {
				c, err := decodeCandidate(parts, k, v)
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
			c, err := loadCandidate(cands, parts, k[len(prefix):])
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
		if err := tx.saveCandidate(old, c, nil); err != nil {
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
			if err := tx.saveCandidate(&old, c, nil); err != nil {
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
