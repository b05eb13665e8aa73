package storage

// Candidate parts: the lists that grow with every item joining a candidate.
//
// Bucket "cand_parts": key = ID + 0x00 + kind + index (uint32 BE), value =
// JSON of one element of the candidate's Sources (kind 's'), Matches ('m')
// or Keys ('k'). The candidate's value in "candidates" (its head) holds
// every other field and the three lists' lengths.
//
// Why: a joining item adds a source, a match and a key. When the lists lived
// inside the candidate's one JSON value, every join re-encoded all of them,
// so a candidate of n sources cost O(n) to extend and O(n²) to build: 22%
// of a 10,000-feed cold cycle's CPU went to saveCandidate's json.Marshal.
// Now a save writes the head and only the list elements that differ from
// what is stored (usually the one appended), so a join costs the same at
// any size of candidate.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/tierwatch/tierwatch/model"
)

var bucketCandParts = []byte("cand_parts")

// candPartFill is the fill percent of cand_parts. A join appends one
// element at the end of each of its candidate's three lists, so inserts
// come in runs of ascending keys, a few dozen runs at a time (one per list
// of each open candidate). bbolt splits a page at half full, which suits
// random keys; here the left half is never written again, and the bucket
// of a 10,000-feed benchmark ended 42% full (14.6 MB in 35 MB of pages).
const candPartFill = 0.9

// Part kinds, the byte after the candidate ID and 0x00.
const (
	partSource = 's'
	partMatch  = 'm'
	partKey    = 'k'
)

// candHead is the stored value of a candidate: the candidate with Sources,
// Matches and Keys left empty, and their lengths.
type candHead struct {
	model.Candidate
	Parts partCounts `json:"parts"`
}

type partCounts struct {
	Sources int `json:"sources"`
	Matches int `json:"matches"`
	Keys    int `json:"keys"`
}

// partKey returns the cand_parts key of element i of a candidate's list.
func partKeyOf(id []byte, kind byte, i int) []byte {
	k := make([]byte, 0, len(id)+2+4)
	k = append(k, id...)
	k = append(k, sep, kind)
	return binary.BigEndian.AppendUint32(k, uint32(i))
}

// encodeHead returns the head of c.
func encodeHead(c *model.Candidate) ([]byte, error) {
	h := candHead{Candidate: *c, Parts: partCounts{len(c.Sources), len(c.Matches), len(c.Keys)}}
	h.Sources, h.Matches, h.Keys = nil, nil, nil
	return json.Marshal(&h)
}

// decodeCandidate decodes the head stored at id and reads its parts.
func decodeCandidate(parts *bolt.Bucket, id, head []byte) (*model.Candidate, error) {
	var h candHead
	if err := decodeJSON(id, head, &h); err != nil {
		return nil, err
	}
	c := &h.Candidate
	if c.Sources != nil || c.Matches != nil || c.Keys != nil {
		return nil, fmt.Errorf("candidate %q: lists inside its head (schema 1 value in a schema %d store)", id, schemaVersion)
	}
	if n := h.Parts; n.Sources > 0 || n.Matches > 0 || n.Keys > 0 {
		c.Sources = make([]model.Ref, 0, n.Sources)
		c.Matches = make([]model.Match, 0, n.Matches)
		c.Keys = make([]string, 0, n.Keys)
	}
	prefix := append(append([]byte{}, id...), sep)
	cur := parts.Cursor()
	for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
		rest := k[len(prefix):]
		if len(rest) != 5 {
			return nil, fmt.Errorf("candidate %q: bad part key %q", id, k)
		}
		i := int(binary.BigEndian.Uint32(rest[1:]))
		var err error
		switch rest[0] {
		case partSource:
			c.Sources, err = appendPart(c.Sources, i, k, v)
		case partMatch:
			c.Matches, err = appendPart(c.Matches, i, k, v)
		case partKey:
			c.Keys, err = appendPart(c.Keys, i, k, v)
		default:
			err = fmt.Errorf("unknown part kind in key %q", k)
		}
		if err != nil {
			return nil, fmt.Errorf("candidate %q: %w", id, err)
		}
	}
	if got := (partCounts{len(c.Sources), len(c.Matches), len(c.Keys)}); got != h.Parts {
		return nil, fmt.Errorf("candidate %q: head lists %d sources, %d matches, %d keys; parts hold %d, %d, %d",
			id, h.Parts.Sources, h.Parts.Matches, h.Parts.Keys, got.Sources, got.Matches, got.Keys)
	}
	return c, nil
}

// appendPart decodes element i of a list, which must come next.
func appendPart[T any](list []T, i int, k, v []byte) ([]T, error) {
	if i != len(list) {
		return list, fmt.Errorf("part %q out of order (want index %d)", k, len(list))
	}
	var e T
	if err := decodeJSON(k, v, &e); err != nil {
		return list, err
	}
	return append(list, e), nil
}

// putParts stores the list cur of kind for candidate id, given the list
// old that is stored: it writes the elements from the first that differs
// and deletes those past the end of cur. It returns how many elements of
// old were kept.
func putParts[T any](parts *bolt.Bucket, id []byte, kind byte, old, cur []T, eq func(a, b *T) bool) (int, error) {
	same := 0
	for same < len(old) && same < len(cur) && eq(&old[same], &cur[same]) {
		same++
	}
	for i := same; i < len(cur); i++ {
		data, err := json.Marshal(&cur[i])
		if err != nil {
			return 0, fmt.Errorf("encode part %c%d of %q: %w", kind, i, id, err)
		}
		if err := parts.Put(partKeyOf(id, kind, i), data); err != nil {
			return 0, err
		}
	}
	for i := len(cur); i < len(old); i++ {
		if err := parts.Delete(partKeyOf(id, kind, i)); err != nil {
			return 0, err
		}
	}
	return same, nil
}

func sameRef(a, b *model.Ref) bool { return *a == *b }
func sameString(a, b *string) bool { return *a == *b }
func sameMatch(a, b *model.Match) bool {
	return a.Rule == b.Rule && a.ItemKey == b.ItemKey && a.Source == b.Source &&
		a.Weight == b.Weight && slices.Equal(a.Hits, b.Hits)
}

// putCandidateParts stores c's lists given old's (nil: nothing stored). It
// returns how many of old's Sources, Matches and Keys were kept.
func putCandidateParts(parts *bolt.Bucket, old, c *model.Candidate) (partCounts, error) {
	var o model.Candidate
	if old != nil {
		o = *old
	}
	id := []byte(c.ID)
	var kept partCounts
	var err error
	if kept.Sources, err = putParts(parts, id, partSource, o.Sources, c.Sources, sameRef); err != nil {
		return kept, err
	}
	if kept.Matches, err = putParts(parts, id, partMatch, o.Matches, c.Matches, sameMatch); err != nil {
		return kept, err
	}
	if kept.Keys, err = putParts(parts, id, partKey, o.Keys, c.Keys, sameString); err != nil {
		return kept, err
	}
	return kept, nil
}

// migrateCandidates rewrites every candidate stored whole (schema 1) as a
// head and its parts (schema 2).
func migrateCandidates(tx *bolt.Tx) error {
	cands, parts := tx.Bucket(bucketCandidates), tx.Bucket(bucketCandParts)
	parts.FillPercent = candPartFill
	var ids [][]byte
	// The callback never fails.
	_ = cands.ForEach(func(k, _ []byte) error {
		ids = append(ids, bytes.Clone(k))
		return nil
	})
	for _, id := range ids {
		var c model.Candidate
		if err := decodeJSON(id, cands.Get(id), &c); err != nil {
			return fmt.Errorf("migrate candidate: %w", err)
		}
		if _, err := putCandidateParts(parts, nil, &c); err != nil {
			return fmt.Errorf("migrate candidate %q: %w", id, err)
		}
		head, err := encodeHead(&c)
		if err != nil {
			return fmt.Errorf("migrate candidate %q: %w", id, err)
		}
		if err := cands.Put(id, head); err != nil {
			return fmt.Errorf("migrate candidate %q: %w", id, err)
		}
	}
	return nil
}
