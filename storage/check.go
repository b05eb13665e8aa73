package storage

// Index consistency checks for Store.Check. They own no buckets: each index
// described in keys.go is compared with the records it indexes, so a bug
// that forgets an index update shows up in every test's cleanup.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tierwatch/tierwatch/model"
)

// maxCheckErrors stops a badly broken store from producing millions of
// messages.
const maxCheckErrors = 20

type checker struct {
	tx   *bolt.Tx
	errs []error
}

func (c *checker) fail(format string, args ...any) {
	if len(c.errs) < maxCheckErrors {
		c.errs = append(c.errs, fmt.Errorf(format, args...))
	}
}

// forEach decodes every value of bucket name into a fresh T.
func forEach[T any](c *checker, name []byte, fn func(k []byte, v *T)) int {
	b := c.tx.Bucket(name)
	if b == nil {
		c.fail("bucket %s missing", name)
		return 0
	}
	n := 0
	// The callback never returns an error; problems go to c.fail.
	_ = b.ForEach(func(k, data []byte) error {
		n++
		var v T
		if err := decodeJSON(k, data, &v); err != nil {
			c.fail("%s: %v", name, err)
			return nil
		}
		fn(k, &v)
		return nil
	})
	return n
}

func (c *checker) has(name, key []byte) bool {
	b := c.tx.Bucket(name)
	return b != nil && b.Get(key) != nil
}

func (c *checker) count(name []byte) int {
	b := c.tx.Bucket(name)
	if b == nil {
		return 0
	}
	return b.Stats().KeyN
}

// checkIndexes reports every index entry that is missing or extra, and
// every stored item whose body log cannot give back.
func checkIndexes(tx *bolt.Tx, log *itemLog) []error {
	c := &checker{tx: tx}
	c.checkItems(log)

	open, cands, nparts := 0, 0, 0
	listed := map[string]bool{} // candidate ID + 0x00 + group key, for cand_keys
	if cb, parts := tx.Bucket(bucketCandidates), tx.Bucket(bucketCandParts); cb == nil || parts == nil {
		c.fail("bucket %s or %s missing", bucketCandidates, bucketCandParts)
	} else {
		// The callback never returns an error; problems go to c.fail.
		_ = cb.ForEach(func(k, head []byte) error {
			cands++
			cand, err := decodeCandidate(parts, k, head)
			if err != nil {
				c.fail("%s: %v", bucketCandidates, err)
				return nil
			}
			nparts += len(cand.Sources) + len(cand.Matches) + len(cand.Keys)
			for _, gk := range cand.Keys {
				listed[string(joinKey(string(k), groupKey(gk)))] = true
			}
			if cand.ID != string(k) {
				c.fail("candidate %q stored under %q", cand.ID, k)
			}
			if !c.has(bucketCandStatus, joinKey(cand.Status, k)) {
				c.fail("candidate %q has no status index entry for %q", k, cand.Status)
			}
			if cand.IsOpen() {
				open++
				if !c.has(bucketCandOpen, append(timeKey(cand.LastSeen), k...)) {
					c.fail("open candidate %q has no last-seen index entry", k)
				}
			}
			return nil
		})
	}
	if n := c.count(bucketCandParts); n != nparts {
		c.fail("cand_parts has %d entries for the %d parts of %d candidates", n, nparts, cands)
	}
	if n := c.count(bucketCandStatus); n != cands {
		c.fail("cand_status has %d entries for %d candidates", n, cands)
	}
	if n := c.count(bucketCandOpen); n != open {
		c.fail("cand_open has %d entries for %d open candidates", n, open)
	}
	if b, cb := tx.Bucket(bucketCandKeys), tx.Bucket(bucketCandidates); b != nil && cb != nil {
		// The callback never returns an error; problems go to c.fail.
		_ = b.ForEach(func(gk, id []byte) error {
			if cb.Get(id) == nil {
				c.fail("key %q points at missing candidate %q", gk, id)
			} else if !listed[string(joinKey(string(id), gk))] {
				c.fail("key %q points at candidate %q, which does not list it", gk, id)
			}
			return nil
		})
	}

	pending := 0
	forEach(c, bucketOutbox, func(k []byte, r *model.OutboxRecord) {
		if r.State != model.OutboxPending {
			return
		}
		pending++
		got := c.tx.Bucket(bucketOutboxPending).Get(joinKey(r.Dest, u64(r.Seq)))
		if !bytes.Equal(got, k) {
			c.fail("pending record %q (%s #%d) has index entry %q", k, r.Dest, r.Seq, got)
		}
	})
	if n := c.count(bucketOutboxPending); n != pending {
		c.fail("outbox_pending has %d entries for %d pending records", n, pending)
	}

	decs := forEach(c, bucketDecisions, func(k []byte, d *model.Decision) {
		if !c.has(bucketDecByCand, joinKey(d.CandidateID, k)) {
			c.fail("decision %d has no candidate index entry", be64(k))
		}
	})
	if n := c.count(bucketDecByCand); n != decs {
		c.fail("dec_by_cand has %d entries for %d decisions", n, decs)
	}
	return c.errs
}

// checkItems checks each item_times entry against the log (a readable
// record whose item has that first-seen time and whose seen entry points
// there) and the per-segment counts against the entries.
func (c *checker) checkItems(log *itemLog) {
	times, seen, segs := c.tx.Bucket(bucketItemTimes), c.tx.Bucket(bucketSeen), c.tx.Bucket(bucketItemSegs)
	if times == nil || seen == nil || segs == nil {
		c.fail("item buckets missing")
		return
	}
	var end logEnd
	if v := c.tx.Bucket(bucketMeta).Get(keyItemLogEnd); v != nil {
		var ok bool
		if end, ok = decodeEnd(v); !ok {
			c.fail("bad item log end %x", v)
		}
	}
	perSeg := map[uint32]uint64{}
	// The callback never returns an error; problems go to c.fail.
	_ = times.ForEach(func(k, _ []byte) error {
		p, ok := decodePos(k[min(8, len(k)):])
		if len(k) != 8+posSize || !ok {
			c.fail("item_times: bad key %x", k)
			return nil
		}
		perSeg[p.seg]++
		if p.seg > end.seg || p.seg == end.seg && int64(p.off)+recordHeader+int64(p.n) > int64(end.off) {
			c.fail("item at %s:%d lies past the log's committed end", segmentName(p.seg), p.off)
			return nil
		}
		body, err := log.read(p)
		if err != nil {
			c.fail("item at %s:%d: %v", segmentName(p.seg), p.off, err)
			return nil
		}
		var it struct {
			Source    string    `json:"source"`
			Key       string    `json:"key"`
			FirstSeen time.Time `json:"first_seen"`
		}
		if err := decodeJSON(k, body, &it); err != nil {
			c.fail("item at %s:%d: %v", segmentName(p.seg), p.off, err)
			return nil
		}
		if !bytes.Equal(timeKey(it.FirstSeen), k[:8]) {
			c.fail("item %s %s is indexed at another time than its first-seen time", it.Source, it.Key)
		}
		if v := seen.Get(itemKey(it.Source, it.Key)); len(v) != 8+posSize || !bytes.Equal(v, k) {
			c.fail("item %s %s: its seen entry does not point at its body", it.Source, it.Key)
		}
		return nil
	})
	_ = segs.ForEach(func(k, v []byte) error {
		if len(k) != 4 {
			c.fail("item_segs: bad key %x", k)
			return nil
		}
		seg := binary.BigEndian.Uint32(k)
		if got := be64(v); got != perSeg[seg] {
			c.fail("item_segs counts %d items in segment %s, item_times %d", got, segmentName(seg), perSeg[seg])
		}
		delete(perSeg, seg)
		return nil
	})
	for seg, n := range perSeg {
		c.fail("segment %s holds %d items but item_segs has no count", segmentName(seg), n)
	}
}
