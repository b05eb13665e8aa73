package storage

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tierwatch/tierwatch/model"
)

// commitN commits n items of source, first seen at `at`, keys prefix-0…
func commitN(t *testing.T, s *Store, source, prefix string, n int, at time.Time) {
	t.Helper()
	var items []model.Item
	for i := range n {
		it := newsItem(fmt.Sprintf("%s-%03d", prefix, i), at)
		it.Summary = strings.Repeat("a summary of the story ", 8)
		items = append(items, it)
	}
	if _, err := s.Commit(t.Context(), model.SourceState{Name: source}, items, nil); err != nil {
		t.Fatal(err)
	}
}

// segmentFiles lists the segment files of the store in dir.
func segmentFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, ItemsDirName))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func countItems(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	if err := s.Items(t.Context(), time.Time{}, func(model.Item) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestItemLogDropsUncommittedTail: bytes after the recorded end (records a
// crash left unreferenced, or a torn write) are cut off at Open, and new
// records go where they were.
func TestItemLogDropsUncommittedTail(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s, err := Open(dir, Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	commitN(t, s, "aws-news", "a", 10, t0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	seg := filepath.Join(dir, ItemsDirName, segmentName(0))
	before, err := os.Stat(seg)
	if err != nil {
		t.Fatal(err)
	}
	// An append of a commit that never happened, cut short by the crash.
	f, err := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte{0, 0, 1, 0, 0xde, 0xad, '{', '"'}); err != nil {
		t.Fatal(err)
	}
	f.Close()

	s2, err := Open(dir, Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if after, err := os.Stat(seg); err != nil || after.Size() != before.Size() {
		t.Fatalf("segment after reopen: %v, %v; want %d bytes", after, err, before.Size())
	}
	commitN(t, s2, "aws-news", "b", 5, t0.Add(time.Minute))
	if n := countItems(t, s2); n != 15 {
		t.Errorf("Items visited %d, want 15", n)
	}
	if err := s2.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
}

// TestItemLogSegmentsPruned: items spread over several segments; Prune
// deletes a segment once none of its items is left, never the active one.
func TestItemLogSegmentsPruned(t *testing.T) {
	s := openTest(t)
	s.log.segMax = 8 << 10
	dir := filepath.Dir(s.Path())
	for day := range 6 {
		commitN(t, s, "aws-news", fmt.Sprintf("d%d", day), 20, t0.Add(time.Duration(day)*24*time.Hour))
	}
	segs := segmentFiles(t, dir)
	if len(segs) < 4 {
		t.Fatalf("%d segments (%v), want items spread over at least 4", len(segs), segs)
	}
	// Keep the last two days.
	now := t0.Add(6 * 24 * time.Hour)
	st, err := s.Prune(now, Retention{Items: 2*24*time.Hour + time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if st.Items != 80 || st.Segments == 0 {
		t.Errorf("Prune = %+v, want 80 items and some segments", st)
	}
	left := segmentFiles(t, dir)
	if len(left) != len(segs)-st.Segments {
		t.Errorf("segments %v after pruning %d of %v", left, st.Segments, segs)
	}
	if n := countItems(t, s); n != 40 {
		t.Errorf("Items visited %d after Prune, want 40", n)
	}
	if _, err := s.Item("aws-news", "d0-000"); !errors.Is(err, ErrNotFound) {
		t.Errorf("pruned Item = %v, want ErrNotFound", err)
	}
	if it, err := s.Item("aws-news", "d5-019"); err != nil || it.Key != "d5-019" {
		t.Errorf("kept Item = %+v, %v", it, err)
	}
	// Everything pruned: only the active segment stays.
	if _, err := s.Prune(now.Add(30*24*time.Hour), Retention{Items: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if left := segmentFiles(t, dir); len(left) != 1 || left[0] != segmentName(s.log.end.seg) {
		t.Errorf("segments %v after pruning all, want only the active one", left)
	}
}

// TestItemLogSweepWaitsForCommit: a segment the log has moved on from is
// not deleted while a commit that appended to it is unfinished, even when
// the store counts no item in it yet.
func TestItemLogSweepWaitsForCommit(t *testing.T) {
	l, err := openItemLog(t.TempDir(), logEnd{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	l.segMax = 64
	p, err := l.append([][]byte{[]byte(`{"a":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	q, err := l.append([][]byte{bytes.Repeat([]byte("x"), 50)}) // does not fit: next segment
	if err != nil {
		t.Fatal(err)
	}
	l.done(q[0].seg)
	if p[0].seg == q[0].seg {
		t.Fatalf("both records in segment %d, want a rotation", p[0].seg)
	}
	none := func(uint32) (bool, error) { return false, nil }
	if n, err := l.sweep(none); err != nil || n != 0 {
		t.Fatalf("sweep during the commit = %d, %v; want 0", n, err)
	}
	if _, err := l.read(p[0]); err != nil {
		t.Errorf("read during the commit: %v", err)
	}
	l.done(p[0].seg)
	if n, err := l.sweep(none); err != nil || n != 1 {
		t.Fatalf("sweep after the commit = %d, %v; want 1", n, err)
	}
	if _, err := l.read(p[0]); !errors.Is(err, errSegmentGone) {
		t.Errorf("read after sweep = %v, want errSegmentGone", err)
	}
}

// TestCheckFindsDamagedItemLog: a flipped byte in a body, or a segment
// deleted behind the store's back, is reported by Check.
func TestCheckFindsDamagedItemLog(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, seg string)
		want   string
	}{
		{"flipped byte", func(t *testing.T, seg string) {
			b, err := os.ReadFile(seg)
			if err != nil {
				t.Fatal(err)
			}
			b[recordHeader+5] ^= 0x20 // inside the first record's body
			if err := os.WriteFile(seg, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "checksum mismatch"},
		{"segment deleted", func(t *testing.T, seg string) {
			if err := os.Remove(seg); err != nil {
				t.Fatal(err)
			}
		}, "segment deleted"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "state")
			s, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			s.log.segMax = 4 << 10
			commitN(t, s, "a", "x", 10, t0)
			commitN(t, s, "b", "y", 10, t0) // rotates: segment 0 is finished
			tc.damage(t, filepath.Join(dir, ItemsDirName, segmentName(0)))
			s.log.close() // drop cached handles so the damage is seen
			err = s.Check()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check = %v, want %q", err, tc.want)
			}
			s.db.Close()
		})
	}
}

// TestBackupCarriesItemLog: a backup is one file holding the item log;
// restored over another store's state dir it replaces that store's log,
// and CheckBackup catches a damaged or cut-off copy.
func TestBackupCarriesItemLog(t *testing.T) {
	s := openTest(t)
	s.log.segMax = 8 << 10
	for day := range 4 {
		commitN(t, s, "aws-news", fmt.Sprintf("d%d", day), 20, t0.Add(time.Duration(day)*time.Hour))
	}
	var buf bytes.Buffer
	if _, err := s.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(backup, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := CheckBackup(backup); err != nil {
		t.Fatalf("CheckBackup: %v", err)
	}

	// Restore over a store with a log of its own.
	dir := filepath.Join(t.TempDir(), "state")
	other, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	commitN(t, other, "other", "o", 30, t0)
	other.Close()
	if err := os.WriteFile(filepath.Join(dir, FileName), buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open restored: %v", err)
	}
	if err := r.Check(); err != nil {
		t.Errorf("Check restored: %v", err)
	}
	if n := countItems(t, r); n != 80 {
		t.Errorf("restored store has %d items, want 80", n)
	}
	if it, err := r.Item("aws-news", "d3-019"); err != nil || it.Summary == "" {
		t.Errorf("restored Item = %+v, %v", it, err)
	}
	if _, err := r.Item("other", "o-000"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Item of the replaced store = %v, want ErrNotFound", err)
	}
	commitN(t, r, "aws-news", "after", 5, t0.Add(5*time.Hour))
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, FileName)); err != nil || bytes.HasSuffix(mustRead(t, filepath.Join(dir, FileName)), backupMagic) {
		t.Errorf("store file after restore: %v, %v; want the log cut off", fi, err)
	}

	damaged := []struct {
		name string
		edit func(b []byte) []byte
		want string
	}{
		{"flipped byte in a record", func(b []byte) []byte {
			b = bytes.Clone(b)
			b[len(b)-footerSize-10] ^= 1
			return b
		}, "checksum mismatch"},
		{"cut off", func(b []byte) []byte { return b[:len(b)-100] }, "no item log"},
	}
	for _, tc := range damaged {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "b.db")
			if err := os.WriteFile(p, tc.edit(buf.Bytes()), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := CheckBackup(p); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CheckBackup = %v, want %q", err, tc.want)
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMigrateItemsFromSchema2: a schema 2 store (bodies in bucket items,
// indexed by items_by_time) opens with its items in the log, readable in
// order, the old buckets gone and the indexes consistent.
func TestMigrateItemsFromSchema2(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 2500 // more than one migration chunk
	err = db.Update(func(tx *bolt.Tx) error {
		meta, _ := tx.CreateBucket(bucketMeta)
		if err := meta.Put(keySchema, u64(2)); err != nil {
			return err
		}
		for _, name := range append([][]byte{bucketItemsV2, bucketItemsByTimeV2}, allBuckets...) {
			if name := string(name); name == string(bucketItemTimes) || name == string(bucketItemSegs) {
				continue // new in schema 3
			}
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		for i := range n {
			it := newsItem(fmt.Sprintf("g:%04d", i), t0.Add(time.Duration(n-i)*time.Second))
			it.Source = "aws-news"
			k, tk := itemKey(it.Source, it.Key), timeKey(it.FirstSeen)
			if err := tx.Bucket(bucketSeen).Put(k, tk); err != nil {
				return err
			}
			if err := putJSON(tx.Bucket(bucketItemsV2), k, it); err != nil {
				return err
			}
			if err := tx.Bucket(bucketItemsByTimeV2).Put(append(tk, k...), []byte{}); err != nil {
				return err
			}
		}
		// A seen entry whose item was pruned stays seen.
		return tx.Bucket(bucketSeen).Put(itemKey("aws-news", "g:old"), timeKey(t0.Add(-time.Hour)))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open schema 2: %v", err)
	}
	defer s.Close()
	if err := s.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
	want := n - 1 // newest first seen first: g:2499 was first seen earliest
	err = s.Items(t.Context(), time.Time{}, func(it model.Item) error {
		if it.Key != fmt.Sprintf("g:%04d", want) {
			return fmt.Errorf("got %s, want g:%04d", it.Key, want)
		}
		want--
		return nil
	})
	if err != nil || want != -1 {
		t.Errorf("Items = %v, stopped before g:%04d", err, want)
	}
	unseen, err := s.Unseen("aws-news", []string{"g:old", "g:0000", "g:new"})
	if err != nil || unseen[0] || unseen[1] || !unseen[2] {
		t.Errorf("Unseen = %v, %v; want only g:new new", unseen, err)
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketItemsV2, bucketItemsByTimeV2} {
			if tx.Bucket(name) != nil {
				t.Errorf("bucket %s still there", name)
			}
		}
		if v := be64(tx.Bucket(bucketMeta).Get(keySchema)); v != schemaVersion {
			t.Errorf("schema %d, want %d", v, schemaVersion)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestItemLogDirectoryLost: with its items directory gone the store still
// opens and keeps its seen set (nothing comes back as new), new items are
// stored, and Check names what was lost.
func TestItemLogDirectoryLost(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	commitN(t, s, "aws-news", "a", 10, t0)
	s.Close()
	if err := os.RemoveAll(filepath.Join(dir, ItemsDirName)); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open without items dir: %v", err)
	}
	defer s.Close()
	if unseen, err := s.Unseen("aws-news", []string{"a-000", "a-009"}); err != nil || unseen[0] || unseen[1] {
		t.Errorf("Unseen = %v, %v; want both still seen", unseen, err)
	}
	if _, err := s.Item("aws-news", "a-000"); !errors.Is(err, ErrNotFound) {
		t.Errorf("lost Item = %v, want ErrNotFound", err)
	}
	commitN(t, s, "aws-news", "b", 3, t0.Add(time.Hour))
	if it, err := s.Item("aws-news", "b-002"); err != nil || it.Key != "b-002" {
		t.Errorf("new Item = %+v, %v", it, err)
	}
	if err := s.Check(); err == nil || !strings.Contains(err.Error(), "segment deleted") {
		t.Errorf("Check = %v, want the lost segment reported", err)
	}
}

// TestItemLogReadRejectsBadPositions: a position read from a damaged bbolt
// value gives an error, not a huge allocation or a record of another length.
func TestItemLogReadRejectsBadPositions(t *testing.T) {
	l, err := openItemLog(t.TempDir(), logEnd{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	p, err := l.append([][]byte{[]byte(`{"key":"a"}`)})
	if err != nil {
		t.Fatal(err)
	}
	l.done(p[0].seg)
	tests := []struct {
		name string
		pos  logPos
		want string
	}{
		{"length over the limit", logPos{seg: p[0].seg, off: p[0].off, n: 1 << 31}, "over the limit"},
		{"length of another record", logPos{seg: p[0].seg, off: p[0].off, n: p[0].n - 1}, "want"},
		{"past the end", logPos{seg: p[0].seg, off: 1 << 20, n: p[0].n}, "unexpected EOF"},
		{"segment never written", logPos{seg: 7, off: 0, n: 3}, "segment deleted"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := l.read(tc.pos); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("read(%+v) = %v, want %q", tc.pos, err, tc.want)
			}
		})
	}
	if body, err := l.read(p[0]); err != nil || string(body) != `{"key":"a"}` {
		t.Errorf("read(good) = %q, %v", body, err)
	}
}
