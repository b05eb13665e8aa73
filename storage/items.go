package storage

// Seen set and stored items.
//
// Bucket "seen":  key = source + 0x00 + item key (see itemKey: keys longer
// than 512 bytes in all are replaced by their SHA-256), value = the item's
// first-seen time as timeKey (8 bytes). An item is "seen" once Commit stored
// it; Prune with Retention.Seen forgets old entries.
// Bucket "items": same key, value = JSON model.Item as it was first seen.
// Bucket "items_by_time": key = timeKey(FirstSeen) + the items key, value
// empty; it orders Items and lets Prune find old items without a scan.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tierwatch/tierwatch/model"
)

// itemsChunk is how many items Items decodes per read transaction, so no
// View stays open while the caller's function runs.
const itemsChunk = 500

// Unseen reports, for each key of source, whether the item is not yet in
// the seen set (true = new). It reads outside any write, so an item may be
// committed between Unseen and Commit; Commit checks again.
func (s *Store) Unseen(source string, keys []string) ([]bool, error) {
	out := make([]bool, len(keys))
	err := s.view(func(tx *Tx) error {
		b, err := tx.bucket(bucketSeen)
		if err != nil {
			return err
		}
		for i, k := range keys {
			out[i] = b.Get(itemKey(source, k)) == nil
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("look up seen items of %s: %w", source, err)
	}
	return out, nil
}

// Commit is the one write per fetched source. In a single Update it saves
// st and, for each item not seen before, marks it seen, stores it and calls
// onNew(tx, item) so the caller can create or extend candidates and enqueue
// alerts atomically. Items already seen, and later items of the list with
// the key of an earlier one, are skipped and not passed to onNew.
//
// Items must have a non-empty Key and a Source that is empty or st.Name (an
// empty Source is set to st.Name). A zero FirstSeen is set to the store's
// clock. Items are stored as JSON, so text must be valid UTF-8 (as the
// normaliser guarantees); invalid bytes would come back as U+FFFD. Commit
// adds the number of new items to st.ItemsSeen before saving, so callers
// pass the state they loaded, not a running total.
//
// If onNew returns an error, or ctx is done, the whole Update rolls back
// (no seen keys, items or state are written) and Commit returns the error
// wrapped. On success it returns the new items as stored, in input order.
// onNew may be nil.
//
// Commits of concurrent callers share one transaction and one fsync (see
// group.go); Commit returns once its own writes are on disk. When another
// caller's commit in the same transaction fails, the transaction is rolled
// back and this one runs again, so onNew may be called more than once for
// an item: it must write only to tx, or record its results by item key
// (assign, never add up) so that a rerun replaces them.
func (s *Store) Commit(ctx context.Context, st model.SourceState, items []model.Item,
	onNew func(tx *Tx, it model.Item) error) ([]model.Item, error) {
	return s.CommitWith(ctx, st, items, onNew, nil)
}

// CommitWith is Commit with onState, which runs in the same Update after
// the items and before the state is saved, so a change of the source's
// own health (and the alert it causes) commits with that state or not at
// all. onState may be nil; like onNew it may run more than once.
func (s *Store) CommitWith(ctx context.Context, st model.SourceState, items []model.Item,
	onNew func(tx *Tx, it model.Item) error, onState func(tx *Tx) error) ([]model.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("commit source %s: %w", st.Name, err)
	}
	if err := checkName("source name", st.Name); err != nil {
		return nil, fmt.Errorf("commit source: %w", err)
	}
	// Validate and encode before the transaction: commits share one
	// transaction that runs on a single goroutine, so work done here runs
	// in parallel across callers instead of in the serial section. An item
	// found seen inside the transaction wastes its encoding; callers that
	// pass only Unseen's new items (as the ingest pipeline does) waste none.
	prepared, err := s.prepareItems(st.Name, items)
	if err != nil {
		return nil, fmt.Errorf("commit source %s: %w", st.Name, err)
	}
	fresh := make([]model.Item, 0, len(prepared))
	err = s.batch(func(tx *Tx) error {
		fresh = fresh[:0] // a batch may run this more than once
		ib, err := tx.itemBuckets()
		if err != nil {
			return err
		}
		for i := range prepared {
			if err := ctx.Err(); err != nil {
				return err
			}
			p := &prepared[i]
			if ib.seen.Get(p.key) != nil {
				continue
			}
			if err := ib.put(p); err != nil {
				return fmt.Errorf("store item %s: %w", p.item.Key, err)
			}
			if onNew != nil {
				if err := onNew(tx, p.item); err != nil {
					return fmt.Errorf("item %s: %w", p.item.Key, err)
				}
			}
			fresh = append(fresh, p.item)
		}
		if onState != nil {
			if err := onState(tx); err != nil {
				return fmt.Errorf("source state: %w", err)
			}
		}
		sources, err := tx.bucket(bucketSources)
		if err != nil {
			return err
		}
		saved := st
		saved.ItemsSeen += int64(len(fresh))
		return putSourceState(sources, saved)
	})
	if err != nil {
		return nil, fmt.Errorf("commit source %s: %w", st.Name, err)
	}
	return fresh, nil
}

// preparedItem is an item ready to store: defaults filled in, its seen
// key, time key and JSON value computed.
type preparedItem struct {
	item          model.Item
	key, time, js []byte
}

// prepareItems checks that every item has a key and belongs to source,
// fills in Source and FirstSeen, and encodes each.
func (s *Store) prepareItems(source string, items []model.Item) ([]preparedItem, error) {
	now := s.now().UTC()
	out := make([]preparedItem, len(items))
	for i, it := range items {
		switch {
		case it.Key == "":
			return nil, fmt.Errorf("item %q has an empty key", it.URL)
		case it.Source == "":
			it.Source = source
		case it.Source != source:
			return nil, fmt.Errorf("item %s belongs to source %q", it.Key, it.Source)
		}
		if it.FirstSeen.IsZero() {
			it.FirstSeen = now
		}
		js, err := json.Marshal(it)
		if err != nil {
			return nil, fmt.Errorf("encode item %s: %w", it.Key, err)
		}
		out[i] = preparedItem{item: it, key: itemKey(source, it.Key), time: timeKey(it.FirstSeen), js: js}
	}
	return out, nil
}

// itemFill is the fill percent of the item buckets. bbolt splits pages at
// half full by default, which suits keys that arrive in random order; here
// each commit inserts a run of adjacent keys (one source's items in
// "seen" and "items", and keys of about the present time in
// "items_by_time"), so half-full pages would only double the file. At
// 0.9 a 2,000-feed benchmark store shrank from 228 MB to 128 MB.
const itemFill = 0.9

// itemBuckets are the three buckets an item is stored in.
type itemBuckets struct{ seen, items, byTime *bolt.Bucket }

func (tx *Tx) itemBuckets() (itemBuckets, error) {
	var ib itemBuckets
	var err error
	if ib.seen, err = tx.bucket(bucketSeen); err != nil {
		return ib, err
	}
	if ib.items, err = tx.bucket(bucketItems); err != nil {
		return ib, err
	}
	if ib.byTime, err = tx.bucket(bucketItemsByTime); err != nil {
		return ib, err
	}
	ib.seen.FillPercent, ib.items.FillPercent, ib.byTime.FillPercent = itemFill, itemFill, itemFill
	return ib, nil
}

// put marks p seen and stores it with its time index entry.
func (ib itemBuckets) put(p *preparedItem) error {
	if err := ib.seen.Put(p.key, p.time); err != nil {
		return err
	}
	if err := ib.items.Put(p.key, p.js); err != nil {
		return err
	}
	return ib.byTime.Put(append(p.time[:len(p.time):len(p.time)], p.key...), []byte{})
}

// Item returns the stored item of source with key, or an error wrapping
// ErrNotFound (never stored, or pruned).
func (s *Store) Item(source, key string) (model.Item, error) {
	var it model.Item
	err := s.view(func(tx *Tx) error {
		b, err := tx.bucket(bucketItems)
		if err != nil {
			return err
		}
		ok, err := getJSON(b, itemKey(source, key), &it)
		if err == nil && !ok {
			err = ErrNotFound
		}
		return err
	})
	if err != nil {
		return model.Item{}, fmt.Errorf("load item %s %s: %w", source, key, err)
	}
	return it, nil
}

// Items calls fn for each stored item with FirstSeen >= since, in
// FirstSeen order (ties in source and key order). Items are decoded in
// chunks of 500 per read transaction and fn runs outside any transaction,
// so fn may use the store. Items committed while Items runs may or may not
// be visited. It stops at the first error from fn or ctx, and returns it
// wrapped.
func (s *Store) Items(ctx context.Context, since time.Time, fn func(model.Item) error) error {
	from := timeKey(since)
	first := true
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("list items: %w", err)
		}
		var chunk []model.Item
		var last []byte
		err := s.view(func(tx *Tx) error {
			byTime, err := tx.bucket(bucketItemsByTime)
			if err != nil {
				return err
			}
			items, err := tx.bucket(bucketItems)
			if err != nil {
				return err
			}
			c := byTime.Cursor()
			k, _ := c.Seek(from)
			if !first && bytes.Equal(k, from) {
				k, _ = c.Next()
			}
			for ; k != nil && len(chunk) < itemsChunk; k, _ = c.Next() {
				if len(k) < 8 {
					return fmt.Errorf("bad index key %q", k)
				}
				var it model.Item
				ok, err := getJSON(items, k[8:], &it)
				if err != nil {
					return err
				}
				if !ok {
					return fmt.Errorf("index entry %q has no item", k)
				}
				chunk = append(chunk, it)
				last = bytes.Clone(k)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("list items: %w", err)
		}
		for _, it := range chunk {
			if err := fn(it); err != nil {
				return fmt.Errorf("list items: %w", err)
			}
		}
		if len(chunk) < itemsChunk {
			return nil
		}
		from, first = last, false
	}
}

// Replay runs one Update and calls onItem for each of items (typically
// read back with Items), so rules can rebuild candidates and outbox records
// atomically. It changes neither the seen set nor stored items. An error
// from onItem or ctx rolls everything back.
func (s *Store) Replay(ctx context.Context, items []model.Item, onItem func(tx *Tx, it model.Item) error) error {
	err := s.update(func(tx *Tx) error {
		for _, it := range items {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := onItem(tx, it); err != nil {
				return fmt.Errorf("item %s %s: %w", it.Source, it.Key, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replay %d items: %w", len(items), err)
	}
	return nil
}

// pruneItems deletes up to batch items first seen before cutoff, with
// their time index entries (their seen entries are Retention.Seen's job).
// It returns done when no older item remains.
func pruneItems(btx *bolt.Tx, cutoff time.Time, batch int) (n int, done bool, err error) {
	byTime, items := btx.Bucket(bucketItemsByTime), btx.Bucket(bucketItems)
	if byTime == nil || items == nil {
		return 0, true, errors.New("items buckets missing")
	}
	end := timeKey(cutoff)
	var keys [][]byte
	c := byTime.Cursor()
	for k, _ := c.First(); k != nil && bytes.Compare(k, end) < 0; k, _ = c.Next() {
		if len(keys) == batch {
			break
		}
		keys = append(keys, bytes.Clone(k))
	}
	// Delete only now: deleting while the cursor iterates skips keys.
	for _, k := range keys {
		if err := byTime.Delete(k); err != nil {
			return n, false, err
		}
		if len(k) >= 8 {
			if err := items.Delete(k[8:]); err != nil {
				return n, false, err
			}
		}
		n++
	}
	return n, len(keys) < batch, nil
}

// pruneSeen scans up to scan seen entries from `from` and deletes
// those first seen before cutoff. It returns where to resume (nil when the
// bucket is exhausted).
func pruneSeen(btx *bolt.Tx, cutoff time.Time, from []byte, scan int) (n int, next []byte, err error) {
	seen := btx.Bucket(bucketSeen)
	if seen == nil {
		return 0, nil, errors.New("seen bucket missing")
	}
	end := timeKey(cutoff)
	var keys [][]byte
	c := seen.Cursor()
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
		if bytes.Compare(v, end) < 0 {
			keys = append(keys, bytes.Clone(k))
		}
	}
	for _, k := range keys {
		if err := seen.Delete(k); err != nil {
			return n, nil, err
		}
		n++
	}
	return n, next, nil
}
