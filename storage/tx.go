package storage

// Tx wraps one bbolt write transaction for callers outside the package
// (rules code creating candidates in Commit, review code in Update). It has
// no buckets of its own: its methods live with their aggregates
// (candidates.go, outbox.go, decisions.go).

import (
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Tx is a view of one write transaction. It is valid only inside the
// callback it was passed to; after the callback returns every method fails
// with errTxDone. It is not safe for concurrent use.
type Tx struct {
	tx   *bolt.Tx
	s    *Store
	done bool
}

var errTxDone = errors.New("storage tx used after its callback returned")

// bucket returns a top-level bucket, which init guarantees exists.
func (tx *Tx) bucket(name []byte) (*bolt.Bucket, error) {
	if tx.done {
		return nil, errTxDone
	}
	b := tx.tx.Bucket(name)
	if b == nil {
		return nil, fmt.Errorf("bucket %s missing", name)
	}
	return b, nil
}

// update runs fn in one bbolt Update with a Tx that is invalidated when fn
// returns. An error from fn rolls the whole transaction back, and then (or
// on a panic) the candidate cache is emptied: fn may have changed shared
// candidates whose changes are not on disk.
func (s *Store) update(fn func(tx *Tx) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.cands.reset()
			panic(r)
		}
		if err != nil {
			s.cands.reset()
		}
	}()
	return s.db.Update(s.txFunc(fn))
}

// txFunc adapts fn to bbolt: a Tx invalidated when fn returns, and the
// candidate cache emptied at once when fn fails or panics, before a batch
// reruns its other calls on a cache that may hold changes of the
// rolled-back transaction.
func (s *Store) txFunc(fn func(tx *Tx) error) func(*bolt.Tx) error {
	return func(btx *bolt.Tx) (err error) {
		tx := &Tx{tx: btx, s: s}
		defer func() {
			tx.done = true
			if r := recover(); r != nil {
				s.cands.reset()
				panic(r)
			}
			if err != nil {
				s.cands.reset()
			}
		}()
		return fn(tx)
	}
}

// view runs fn in one bbolt View. Write methods fail inside it (bbolt
// returns ErrTxNotWritable).
func (s *Store) view(fn func(tx *Tx) error) error {
	return s.db.View(func(btx *bolt.Tx) error {
		tx := &Tx{tx: btx, s: s}
		defer func() { tx.done = true }()
		return fn(tx)
	})
}

// Update runs fn in one short write transaction, for review code that
// changes several candidates and decisions atomically. An error from fn (or
// a panic, which bbolt turns into a rollback and re-panics) discards every
// change. Do no I/O inside fn: it blocks every other writer.
func (s *Store) Update(fn func(tx *Tx) error) error {
	return s.update(fn)
}

// getJSON decodes the value at key into v; it reports false when absent.
func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	return true, decodeJSON(key, data, v)
}

// decodeJSON decodes a value read from bbolt, naming its key on error.
func decodeJSON(key, data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %q: %w", key, err)
	}
	return nil
}

// putJSON encodes v and stores it at key.
func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %q: %w", key, err)
	}
	return b.Put(key, data)
}
