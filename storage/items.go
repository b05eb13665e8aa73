package storage

// Seen set and stored items.
//
// Bucket "seen":  key = source + 0x00 + item key (see itemKey: keys longer
// than 512 bytes in all are replaced by their SHA-256), value = the item's
// first-seen time as timeKey (8 bytes), followed while its body is stored
// by the body's position in the item log (12 bytes, see itemlog.go). An
// item is "seen" once Commit stored it; Prune with Retention.Seen forgets
// old entries.
// Bucket "item_times": key = timeKey(FirstSeen) + log position, value
// empty: one entry per stored item. It orders Items, lets Prune find old
// items without a scan, and says which positions are stored: an item whose
// entry Prune deleted is gone even while its seen entry still points into
// the log.
// Bucket "item_segs": key = segment (4 bytes BE), value = how many stored
// items its records hold (8 bytes BE); absent when none.
// Meta "item_log_end": the log's end (segment, offset) when the last write
// that appended to it committed.

import (
	"bytes"
	"context"
	"encoding/binary"
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
	// Bodies go to the log before the transaction, also outside the
	// serial section; the transaction syncs the log before it commits.
	if len(prepared) > 0 {
		seg, err := s.appendBodies(prepared)
		if err != nil {
			return nil, fmt.Errorf("commit source %s: %w", st.Name, err)
		}
		defer s.log.done(seg)
	}
	fresh := make([]model.Item, 0, len(prepared))
	err = s.batch(func(tx *Tx) error {
		fresh = fresh[:0] // a batch may run this more than once
		ib, err := tx.itemBuckets()
		if err != nil {
			return err
		}
		stored := 0
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
			stored++
			if onNew != nil {
				if err := onNew(tx, p.item); err != nil {
					return fmt.Errorf("item %s: %w", p.item.Key, err)
				}
			}
			fresh = append(fresh, p.item)
		}
		if stored > 0 {
			if err := ib.addToSegment(prepared[0].pos.seg, stored); err != nil {
				return err
			}
			if err := tx.sealLog(); err != nil {
				return err
			}
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
// key and time key computed, its JSON body encoded and, once appended, its
// position in the log.
type preparedItem struct {
	item      model.Item
	key, time []byte
	js        []byte
	pos       logPos
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

// appendBodies appends the bodies of prepared to the log, sets their
// positions and drops the encoded bodies. It returns the segment they went
// to; the caller must call s.log.done with it.
func (s *Store) appendBodies(prepared []preparedItem) (uint32, error) {
	bodies := make([][]byte, len(prepared))
	for i := range prepared {
		bodies[i] = prepared[i].js
	}
	pos, err := s.log.append(bodies)
	if err != nil {
		return 0, err
	}
	for i := range prepared {
		prepared[i].pos, prepared[i].js = pos[i], nil
	}
	return pos[0].seg, nil
}

// itemFill is the fill percent of the item buckets. bbolt splits pages at
// half full by default, which suits keys that arrive in random order; here
// each commit inserts a run of adjacent keys (one source's items in
// "seen", and keys of about the present time in "item_times"), so
// half-full pages would only double the file. At 0.9 a 2,000-feed
// benchmark store shrank from 228 MB to 128 MB (when bodies were still in
// the file).
const itemFill = 0.9

// itemBuckets are the buckets an item is stored in.
type itemBuckets struct{ seen, times, segs *bolt.Bucket }

func (tx *Tx) itemBuckets() (itemBuckets, error) {
	var ib itemBuckets
	var err error
	if ib.seen, err = tx.bucket(bucketSeen); err != nil {
		return ib, err
	}
	if ib.times, err = tx.bucket(bucketItemTimes); err != nil {
		return ib, err
	}
	if ib.segs, err = tx.bucket(bucketItemSegs); err != nil {
		return ib, err
	}
	ib.seen.FillPercent, ib.times.FillPercent = itemFill, itemFill
	return ib, nil
}

// put marks p seen, with its body's position, and indexes it by time.
func (ib itemBuckets) put(p *preparedItem) error {
	pos := p.pos.append(nil)
	if err := ib.seen.Put(p.key, append(p.time[:len(p.time):len(p.time)], pos...)); err != nil {
		return err
	}
	return ib.times.Put(append(p.time[:len(p.time):len(p.time)], pos...), []byte{})
}

// addToSegment adds delta (which may be negative) to the count of stored
// items of segment seg, deleting the count when it reaches zero.
func (ib itemBuckets) addToSegment(seg uint32, delta int) error {
	k := binary.BigEndian.AppendUint32(nil, seg)
	n := int64(be64(ib.segs.Get(k))) + int64(delta)
	if n <= 0 {
		return ib.segs.Delete(k)
	}
	return ib.segs.Put(k, u64(uint64(n)))
}

// sealLog makes the log durable up to its present end and records that end
// in this transaction, which must refer to no record past it. Call it last
// in a transaction that stored items.
func (tx *Tx) sealLog() error {
	end, err := tx.s.log.sync()
	if err != nil {
		return err
	}
	meta, err := tx.bucket(bucketMeta)
	if err != nil {
		return err
	}
	return meta.Put(keyItemLogEnd, end.bytes())
}

// storedPos returns the position of the body stored for seen key k, and
// false when the item was never stored or has been pruned.
func storedPos(seen, times *bolt.Bucket, k []byte) (logPos, bool) {
	v := seen.Get(k)
	if len(v) != 8+posSize {
		return logPos{}, false
	}
	p, _ := decodePos(v[8:])
	return p, times.Get(v) != nil
}

// readItem reads and decodes the body at p.
func (s *Store) readItem(p logPos) (model.Item, error) {
	var it model.Item
	body, err := s.log.read(p)
	if err != nil {
		return it, err
	}
	if err := json.Unmarshal(body, &it); err != nil {
		return it, fmt.Errorf("decode item at %s:%d: %w", segmentName(p.seg), p.off, err)
	}
	return it, nil
}

// Item returns the stored item of source with key, or an error wrapping
// ErrNotFound (never stored, or pruned).
func (s *Store) Item(source, key string) (model.Item, error) {
	k := itemKey(source, key)
	var p logPos
	var ok bool
	err := s.view(func(tx *Tx) error {
		ib, err := tx.itemBuckets()
		if err != nil {
			return err
		}
		p, ok = storedPos(ib.seen, ib.times, k)
		return nil
	})
	if err == nil && !ok {
		err = ErrNotFound
	}
	var it model.Item
	if err == nil {
		it, err = s.readItem(p)
	}
	switch {
	case errors.Is(err, errSegmentGone):
		err = ErrNotFound // pruned since the lookup
	case err == nil && !bytes.Equal(itemKey(it.Source, it.Key), k):
		err = fmt.Errorf("the log holds item %s %s there", it.Source, it.Key)
	}
	if err != nil {
		return model.Item{}, fmt.Errorf("load item %s %s: %w", source, key, err)
	}
	return it, nil
}

// Items calls fn for each stored item with FirstSeen >= since, in
// FirstSeen order (ties in the order they were stored). Positions are read
// in chunks of 500 per read transaction, and bodies are read and fn runs
// outside any transaction, so fn may use the store. Items committed or
// pruned while Items runs may or may not be visited. It stops at the first
// error from fn or ctx, and returns it wrapped.
func (s *Store) Items(ctx context.Context, since time.Time, fn func(model.Item) error) error {
	from := timeKey(since)
	first := true
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("list items: %w", err)
		}
		var chunk []logPos
		var last []byte
		err := s.view(func(tx *Tx) error {
			times, err := tx.bucket(bucketItemTimes)
			if err != nil {
				return err
			}
			c := times.Cursor()
			k, _ := c.Seek(from)
			if !first && bytes.Equal(k, from) {
				k, _ = c.Next()
			}
			for ; k != nil && len(chunk) < itemsChunk; k, _ = c.Next() {
				p, ok := decodePos(k[min(8, len(k)):])
				if len(k) != 8+posSize || !ok {
					return fmt.Errorf("bad index key %q", k)
				}
				chunk = append(chunk, p)
				last = k
			}
			last = bytes.Clone(last)
			return nil
		})
		if err != nil {
			return fmt.Errorf("list items: %w", err)
		}
		for _, p := range chunk {
			it, err := s.readItem(p)
			if errors.Is(err, errSegmentGone) {
				continue // pruned since the chunk was read
			}
			if err != nil {
				return fmt.Errorf("list items: %w", err)
			}
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

// pruneItems deletes the index entries of up to batch items first seen
// before cutoff and takes them off their segments' counts; Prune deletes
// segments left with none (their seen entries are Retention.Seen's job).
// It returns done when no older item remains.
func pruneItems(btx *bolt.Tx, cutoff time.Time, batch int) (n int, done bool, err error) {
	times, segs := btx.Bucket(bucketItemTimes), btx.Bucket(bucketItemSegs)
	if times == nil || segs == nil {
		return 0, true, errors.New("item buckets missing")
	}
	end := timeKey(cutoff)
	var keys [][]byte
	c := times.Cursor()
	for k, _ := c.First(); k != nil && bytes.Compare(k, end) < 0; k, _ = c.Next() {
		if len(keys) == batch {
			break
		}
		keys = append(keys, bytes.Clone(k))
	}
	// Delete only now: deleting while the cursor iterates skips keys.
	perSeg := map[uint32]int{}
	for _, k := range keys {
		if err := times.Delete(k); err != nil {
			return n, false, err
		}
		if p, ok := decodePos(k[min(8, len(k)):]); ok {
			perSeg[p.seg]--
		}
		n++
	}
	ib := itemBuckets{times: times, segs: segs}
	for seg, d := range perSeg {
		if err := ib.addToSegment(seg, d); err != nil {
			return n, false, err
		}
	}
	return n, len(keys) < batch, nil
}

// segmentLive reports whether item_segs counts stored items in seg.
func (s *Store) segmentLive(seg uint32) (bool, error) {
	live := false
	err := s.view(func(tx *Tx) error {
		segs, err := tx.bucket(bucketItemSegs)
		if err != nil {
			return err
		}
		live = segs.Get(binary.BigEndian.AppendUint32(nil, seg)) != nil
		return nil
	})
	return live, err
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
		if bytes.Compare(v[:min(8, len(v))], end) < 0 {
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

// migrateChunk is how many item bodies migrateItems appends at once.
const migrateChunk = 1000

// migrateItems moves the item bodies of a schema 2 store, in bucket
// "items" and indexed by "items_by_time" (key: time + seen key), into the
// log, in first-seen order, and deletes both buckets. It runs in init's
// transaction, so a crash leaves the store at schema 2 and the appended
// records past the recorded end, where the next Open drops them.
func (s *Store) migrateItems(btx *bolt.Tx) error {
	old, oldTimes := btx.Bucket(bucketItemsV2), btx.Bucket(bucketItemsByTimeV2)
	if old == nil || oldTimes == nil {
		return nil // a new store, or one migrated without items
	}
	tx := &Tx{tx: btx, s: s}
	defer func() { tx.done = true }()
	ib, err := tx.itemBuckets()
	if err != nil {
		return err
	}
	var batch []preparedItem
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		seg, err := s.appendBodies(batch)
		if err != nil {
			return err
		}
		defer s.log.done(seg)
		for i := range batch {
			if err := ib.put(&batch[i]); err != nil {
				return fmt.Errorf("store item %q: %w", batch[i].key, err)
			}
		}
		if err := ib.addToSegment(seg, len(batch)); err != nil {
			return err
		}
		batch = batch[:0]
		return nil
	}
	c := oldTimes.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) < 8 {
			return fmt.Errorf("bad index key %q", k)
		}
		body := old.Get(k[8:])
		if body == nil {
			continue // an index entry without its item: nothing to move
		}
		batch = append(batch, preparedItem{key: bytes.Clone(k[8:]), time: bytes.Clone(k[:8]), js: bytes.Clone(body)})
		if len(batch) == migrateChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	for _, name := range [][]byte{bucketItemsV2, bucketItemsByTimeV2} {
		if err := btx.DeleteBucket(name); err != nil {
			return fmt.Errorf("delete bucket %s: %w", name, err)
		}
	}
	return tx.sealLog()
}
