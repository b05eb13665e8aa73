package storage

// Bucket names and key encodings shared by the aggregate files. Each
// aggregate file describes its own buckets in its header; this file only
// lists them so init can create them all.
//
//	meta            "schema" -> uint64 BE                 (store.go)
//	sources         name -> JSON model.SourceState        (state.go)
//	meta            "item_log_end" -> segment(4) + offset(4)  (items.go)
//	seen            itemKey -> first-seen time(8) [+ log position(12)]  (items.go)
//	item_times      time(8) + log position(12) -> ""      (items.go)
//	item_segs       segment(4) -> stored items uint64 BE  (items.go)
//	candidates      id -> JSON candidate head             (candidates.go)
//	cand_parts      id + 0x00 + kind + index(4) -> JSON   (candparts.go)
//	cand_keys       grouping key -> id                    (candidates.go)
//	cand_status     status + 0x00 + id -> ""              (candidates.go)
//	cand_open       lastSeen(8) + id -> ""                (candidates.go)
//	outbox          id -> JSON model.OutboxRecord         (outbox.go)
//	outbox_pending  dest + 0x00 + seq(8) -> id            (outbox.go)
//	outbox_seq      dest -> last seq uint64 BE            (outbox.go)
//	decisions       seq(8) -> JSON model.Decision         (decisions.go)
//	dec_by_cand     candidateID + 0x00 + seq(8) -> ""     (decisions.go)

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"time"
)

var (
	bucketMeta          = []byte("meta")
	bucketSources       = []byte("sources")
	bucketSeen          = []byte("seen")
	bucketItemTimes     = []byte("item_times")
	bucketItemSegs      = []byte("item_segs")
	bucketCandidates    = []byte("candidates")
	bucketCandKeys      = []byte("cand_keys")
	bucketCandStatus    = []byte("cand_status")
	bucketCandOpen      = []byte("cand_open")
	bucketOutbox        = []byte("outbox")
	bucketOutboxPending = []byte("outbox_pending")
	bucketOutboxSeq     = []byte("outbox_seq")
	bucketDecisions     = []byte("decisions")
	bucketDecByCand     = []byte("dec_by_cand")

	keySchema     = []byte("schema")
	keyItemLogEnd = []byte("item_log_end")

	// Schema 2 kept item bodies in bbolt; migrateItems moves them out.
	bucketItemsV2       = []byte("items")
	bucketItemsByTimeV2 = []byte("items_by_time")
)

// allBuckets are created by Store.init (meta is created first, separately).
var allBuckets = [][]byte{
	bucketSources, bucketSeen, bucketItemTimes, bucketItemSegs,
	bucketCandidates, bucketCandParts, bucketCandKeys, bucketCandStatus, bucketCandOpen,
	bucketOutbox, bucketOutboxPending, bucketOutboxSeq,
	bucketDecisions, bucketDecByCand,
}

// sep separates the parts of composite keys. Source names, statuses,
// destinations and candidate ids never contain it (the store rejects them);
// item keys may, which is harmless because they always come last.
const sep = 0x00

// maxItemKey bounds the stored form of source+item key. Item keys come from
// untrusted feeds (a GUID can be any length) and bbolt rejects keys over
// 32768 bytes (bolt.MaxKeySize), which would fail the whole Commit; longer
// keys are stored by their SHA-256 instead.
const maxItemKey = 512

// itemKey returns the seen key of an item: source, 0x00, key; or
// source, 0x00, "sha256:" and the hex digest when that would be too long.
func itemKey(source, key string) []byte {
	if len(source)+1+len(key) > maxItemKey {
		sum := sha256.Sum256([]byte(key))
		key = "sha256:" + hex.EncodeToString(sum[:])
	}
	b := make([]byte, 0, len(source)+1+len(key))
	b = append(b, source...)
	b = append(b, sep)
	return append(b, key...)
}

// joinKey returns prefix, 0x00, rest.
func joinKey(prefix string, rest []byte) []byte {
	b := make([]byte, 0, len(prefix)+1+len(rest))
	b = append(b, prefix...)
	b = append(b, sep)
	return append(b, rest...)
}

// prefixOf returns prefix + 0x00, the common prefix of joinKey(prefix, …).
func prefixOf(prefix string) []byte { return joinKey(prefix, nil) }

// u64 encodes v big-endian so byte order is numeric order.
func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// be64 decodes an 8-byte big-endian value; shorter input yields 0.
func be64(b []byte) uint64 {
	if len(b) < 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// Times outside what UnixNano can represent (before 1678 or after 2262,
// including the zero time.Time) are clamped to these bounds.
var (
	minNano = time.Unix(0, math.MinInt64)
	maxNano = time.Unix(0, math.MaxInt64)
)

// timeKey encodes t as 8 bytes that sort like the times: UnixNano with its
// sign bit flipped, so times before 1970 sort before later ones.
func timeKey(t time.Time) []byte {
	var n int64
	switch {
	case !t.After(minNano):
		n = math.MinInt64
	case !t.Before(maxNano):
		n = math.MaxInt64
	default:
		n = t.UnixNano()
	}
	return u64(uint64(n) ^ 1<<63)
}

// keyTime decodes timeKey; clamped values decode to the clamp bounds.
func keyTime(b []byte) time.Time {
	return time.Unix(0, int64(be64(b)^1<<63)).UTC()
}
