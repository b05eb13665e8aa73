package storage

// Decoded-candidate cache for write transactions.
//
// The grouper calls OpenCandidatesSince once per matching item, and each
// call used to JSON-decode every open candidate in the window: a cold
// cycle of 500 feeds spent 37% of its CPU there, and the cost grows with
// items × open candidates. The cache keeps each open candidate decoded
// beside the exact bytes it was decoded from; a lookup compares the stored
// value with those bytes (a memcmp) and decodes again only when they
// differ, so any write through any path is seen. It owns no bucket.
//
// Shared objects are handed out, so three rules keep them equal to their
// bytes: PutCandidate drops the entry of the candidate it saves (callers
// change a candidate only to save it); a write transaction that fails or
// panics empties the cache (its changes to shared objects are not on disk);
// read-only transactions never use it (they run beside writers).

import (
	"bytes"
	"slices"
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/tierwatch/tierwatch/model"
)

type cachedCand struct {
	raw []byte // the stored value c was decoded from (a copy)
	c   *model.Candidate
	// index holds the fields saveCandidate needs of the stored version
	// (Version, Status, LastSeen, Keys), copied at decode time so they stay
	// right even when c is being changed by the caller.
	index model.Candidate
}

// candCache maps candidate IDs to decoded candidates.
type candCache struct {
	mu sync.Mutex // guards m; writers are serialised by bbolt, the lock is for safety
	m  map[string]cachedCand
}

// load returns the candidate stored at id in b (nil when absent), decoded
// or from the cache. The result is shared: callers must not change it
// unless they save it with PutCandidate in the same transaction.
func (cc *candCache) load(b *bolt.Bucket, id []byte) (*model.Candidate, error) {
	v := b.Get(id)
	if v == nil {
		return nil, nil
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if e, ok := cc.m[string(id)]; ok && bytes.Equal(e.raw, v) {
		return e.c, nil
	}
	var c model.Candidate
	if err := decodeJSON(id, v, &c); err != nil {
		return nil, err
	}
	if cc.m == nil {
		cc.m = map[string]cachedCand{}
	}
	cc.m[string(id)] = cachedCand{raw: bytes.Clone(v), c: &c, index: model.Candidate{
		ID: c.ID, Version: c.Version, Status: c.Status, LastSeen: c.LastSeen, Keys: slices.Clone(c.Keys)}}
	return &c, nil
}

// stored returns the index fields (ID, Version, Status, LastSeen, Keys) of
// the candidate stored at id in b when the cache holds its current bytes,
// else nil. The result is a private copy.
func (cc *candCache) stored(b *bolt.Bucket, id []byte) *model.Candidate {
	v := b.Get(id)
	if v == nil {
		return nil
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	e, ok := cc.m[string(id)]
	if !ok || !bytes.Equal(e.raw, v) {
		return nil
	}
	idx := e.index
	idx.Keys = slices.Clone(idx.Keys)
	return &idx
}

// store caches c as the decoding of raw, the bytes just written at id. c
// must be private to the cache (a clone) and raw must not change.
func (cc *candCache) store(id string, raw []byte, c *model.Candidate) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.m == nil {
		cc.m = map[string]cachedCand{}
	}
	cc.m[id] = cachedCand{raw: raw, c: c, index: model.Candidate{
		ID: c.ID, Version: c.Version, Status: c.Status, LastSeen: c.LastSeen, Keys: slices.Clone(c.Keys)}}
}

// cloneCandidate returns a deep copy of c: every slice is copied, so the
// copy shares no memory the caller could change. TestCloneCandidateIsDeep
// fails when model.Candidate gains a reference field this does not copy.
func cloneCandidate(c *model.Candidate) *model.Candidate {
	d := *c
	d.Actors = slices.Clone(c.Actors)
	d.Tags = slices.Clone(c.Tags)
	d.Rules = slices.Clone(c.Rules)
	d.Sources = slices.Clone(c.Sources)
	d.Keys = slices.Clone(c.Keys)
	d.Routes = slices.Clone(c.Routes)
	d.History = slices.Clone(c.History)
	if c.Matches != nil {
		d.Matches = make([]model.Match, len(c.Matches))
		for i, m := range c.Matches {
			m.Hits = slices.Clone(m.Hits)
			d.Matches[i] = m
		}
	}
	return &d
}

// drop forgets id.
func (cc *candCache) drop(id string) {
	cc.mu.Lock()
	delete(cc.m, id)
	cc.mu.Unlock()
}

// reset forgets everything.
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
