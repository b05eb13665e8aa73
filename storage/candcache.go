package storage

// Decoded-candidate cache for write transactions.
//
// The grouper calls OpenCandidatesSince once per matching item, and each
// call used to JSON-decode every open candidate in the window: a cold
// cycle of 500 feeds spent 37% of its CPU there, and the cost grows with
// items × open candidates. The cache keeps each open candidate decoded
// beside the exact head bytes it was decoded from (see candparts.go); a
// lookup compares the stored head with those bytes (a memcmp) and decodes
// again only when they differ, so any write through any path is seen. It
// owns no bucket.
//
// Shared objects are handed out, so four rules keep them equal to their
// bytes: PutCandidate drops the entry of the candidate it saves (callers
// change a candidate only to save it); a write transaction that fails or
// panics empties the cache (its changes to shared objects are not on disk);
// read-only transactions never use it (they run beside writers); nobody
// writes into a Match's Hits (they are replaced whole, see diskCopy).

import (
	"bytes"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"

	"github.com/tierwatch/tierwatch/model"
)

type cachedCand struct {
	raw  []byte           // the stored head c was decoded from (a copy)
	c    *model.Candidate // handed out, shared
	disk *onDisk
}

// onDisk is what saveCandidate needs of a stored candidate: the index
// fields (ID, Version, Status, LastSeen) and the Sources, Matches and Keys
// stored as parts. Its lists are private to the cache, so it stays right
// while callers change the candidate handed out, and a save extends it in
// place; only the Hits of its Matches are shared (see diskCopy).
type onDisk struct {
	c *model.Candidate
	// keysGen is candCache.released + 1 when every key of c was last looked
	// up in cand_keys, or 0 when not known (see saveCandidate).
	keysGen uint64
}

// candCache maps candidate IDs to decoded candidates.
type candCache struct {
	mu sync.Mutex // guards m; writers are serialised by bbolt, the lock is for safety
	m  map[string]cachedCand
	// released counts the grouping keys released since the store opened.
	released atomic.Uint64
}

// load returns the candidate stored at id in cands and parts (nil when
// absent), decoded or from the cache. The result is shared: callers must
// not change it unless they save it with PutCandidate in the same
// transaction. A head that equals the cached bytes means the parts are
// the cached ones too: every change of a part rewrites the head with a new
// Version in the same transaction, and a failed transaction empties the
// cache.
func (cc *candCache) load(cands, parts *bolt.Bucket, id []byte) (*model.Candidate, error) {
	v := cands.Get(id)
	if v == nil {
		return nil, nil
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if e, ok := cc.m[string(id)]; ok && bytes.Equal(e.raw, v) {
		return e.c, nil
	}
	c, err := decodeCandidate(parts, id, v)
	if err != nil {
		return nil, err
	}
	if cc.m == nil {
		cc.m = map[string]cachedCand{}
	}
	cc.m[string(id)] = cachedCand{raw: bytes.Clone(v), c: c, disk: &onDisk{c: diskCopy(nil, c, partCounts{})}}
	return c, nil
}

// stored returns what is stored of candidate id in cands when the cache
// holds its current head, else nil. The result is the cache's own: the
// caller must drop the entry and may then extend it (see diskCopy).
func (cc *candCache) stored(cands *bolt.Bucket, id []byte) *onDisk {
	v := cands.Get(id)
	if v == nil {
		return nil
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	e, ok := cc.m[string(id)]
	if !ok || !bytes.Equal(e.raw, v) {
		return nil
	}
	return e.disk
}

// store caches c as the decoding of raw, the head just written at id,
// with disk as what is stored of it. c and disk must be private to the
// cache and raw must not change.
func (cc *candCache) store(id string, raw []byte, c *model.Candidate, disk *onDisk) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.m == nil {
		cc.m = map[string]cachedCand{}
	}
	cc.m[id] = cachedCand{raw: raw, c: c, disk: disk}
}

// diskCopy returns what the cache keeps of the stored c (see
// cachedCand.disk). With old, a private copy whose first kept elements of
// each list equal c's, it extends old in place: a join copies only what it
// appended, not the whole candidate.
//
// The copy's Matches share their Hits slices with c (and so with the
// candidate handed out, a shallow Clone of c) instead of cloning them:
// cloned, they were the largest part of the cache, a third of the live
// heap at the end of a 10,000-feed cold cycle. Sharing is safe because
// nothing writes into a Hits slice once it is in a candidate: the grouper
// appends whole Matches whose Hits Matcher.Match allocated for that item,
// review and the rest change fresh copies from Tx.Candidate (whose Hits
// are their own), and OpenCandidatesSince and PutCandidate say that
// callers replace a Match's Hits rather than write into them. A write
// into shared Hits would already have made the candidate handed out
// differ from its bytes, as the Clone that makes it shares them with c.
func diskCopy(old, c *model.Candidate, kept partCounts) *model.Candidate {
	d := old
	if d == nil {
		d, kept = &model.Candidate{}, partCounts{}
	}
	d.ID, d.Version, d.Status, d.LastSeen = c.ID, c.Version, c.Status, c.LastSeen
	d.Sources = append(d.Sources[:kept.Sources], c.Sources[kept.Sources:]...)
	d.Keys = append(d.Keys[:kept.Keys], c.Keys[kept.Keys:]...)
	d.Matches = append(d.Matches[:kept.Matches], c.Matches[kept.Matches:]...)
	return d
}

// drop forgets id.
func (cc *candCache) drop(id string) {
	cc.mu.Lock()
	delete(cc.m, id)
	cc.mu.Unlock()
}

// reset forgets every candidate (the count of released keys goes on).
func (cc *candCache) reset() {
	cc.mu.Lock()
	cc.m = nil
	cc.mu.Unlock()
}

// retain bounds the cache to the candidates of the last full scan once it
// holds more than twice as many (closed and aged-out candidates linger
// otherwise).
func (cc *candCache) retain(ids map[string]bool) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if len(cc.m) <= 2*len(ids)+64 {
		return
	}
	for id := range cc.m {
		if !ids[id] {
			delete(cc.m, id)
		}
	}
}
