package storage

// Item log: the bodies of stored items, outside the bbolt file.
//
// Item bodies are most of a store's bytes (about 1.3 KB of JSON per item
// against some 60 bytes of index), and a bbolt file is read through one
// memory mapping. Every write transaction reads the pages it changes
// through that mapping, the kernel maps the neighbours of every page it
// faults in, and the pages a commit writes lie side by side: after a
// 10,000-feed cold cycle 177 MB of an 818 MB file was mapped into the
// daemon, most of it item bodies nothing would read again (BENCHMARKS.md,
// "Memory at 10,000 feeds"). Here the bodies are appended to segment files
// with write(2) and read back with pread(2), which fill the page cache but
// not the process; bbolt keeps only where each body is.
//
// Layout: dir/items/NNNNNNNN.log, segments of at most segmentMax bytes.
// A record is length (4 bytes BE), CRC-32C of the body (4 bytes BE), body.
// A record never spans segments. A position (12 bytes: segment, offset,
// length of the body, each uint32 BE) names one record.
//
// Durability: records are appended before the transaction that refers to
// them, and that transaction fsyncs the log (sync) and records the log's
// end in the meta bucket before it commits. Open truncates the active
// segment to the recorded end, dropping records no commit refers to (the
// tail of a crash). Records appended for a transaction that then rolled
// back, or for an item another commit stored first, stay as unreferenced
// bytes until their segment is deleted.
//
// Space: bucket item_segs counts the items stored in each segment (Commit
// adds, Prune subtracts). Prune deletes a segment file once its count is
// zero, unless it is the segment being appended to or a commit that
// appended to it has not finished.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// ItemsDirName is the directory of item log segments in the state
// directory.
const ItemsDirName = "items"

// segmentMax is the size at which the log moves on to a new segment. A
// segment is deleted whole, so this is also the granularity of reclaiming
// space after Prune.
const segmentMax = 64 << 20

// recordHeader is the size of a record's length and checksum.
const recordHeader = 8

// maxRecord bounds one record's body: offsets and lengths are uint32 and
// a record must fit in a segment.
const maxRecord = segmentMax - recordHeader

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// logPos is where a record lives: its segment, the offset of its header
// and the length of its body.
type logPos struct{ seg, off, n uint32 }

// posSize is the encoded size of a logPos.
const posSize = 12

func (p logPos) append(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, p.seg)
	b = binary.BigEndian.AppendUint32(b, p.off)
	return binary.BigEndian.AppendUint32(b, p.n)
}

func decodePos(b []byte) (logPos, bool) {
	if len(b) != posSize {
		return logPos{}, false
	}
	return logPos{
		seg: binary.BigEndian.Uint32(b),
		off: binary.BigEndian.Uint32(b[4:]),
		n:   binary.BigEndian.Uint32(b[8:]),
	}, true
}

// logEnd is the end of the log: the active segment and its length.
type logEnd struct{ seg, off uint32 }

func (e logEnd) bytes() []byte {
	return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, e.seg), e.off)
}

func decodeEnd(b []byte) (logEnd, bool) {
	if len(b) != 8 {
		return logEnd{}, false
	}
	return logEnd{seg: binary.BigEndian.Uint32(b), off: binary.BigEndian.Uint32(b[4:])}, true
}

// errSegmentGone is returned by read when a record's segment has been
// deleted (its items were pruned).
var errSegmentGone = errors.New("item log segment deleted")

// itemLog is the open log. Appends are serialised by mu; reads take the
// segment's file under mu and read without it.
type itemLog struct {
	dir    string
	noSync bool
	segMax int // segmentMax; tests lower it

	mu       sync.Mutex
	files    map[uint32]*os.File // open segments, the active one among them
	end      logEnd              // where the next record goes
	dirty    bool                // appended since the last sync
	inflight map[uint32]int      // appends of commits not yet finished, per segment

	// sweepMu keeps segments from being deleted while a backup copies them
	// (readers hold it shared).
	sweepMu sync.RWMutex
}

func segmentName(seg uint32) string { return fmt.Sprintf("%08d.log", seg) }

// parseSegmentName returns the number of a segment file name.
func parseSegmentName(name string) (uint32, bool) {
	num, ok := strings.CutSuffix(name, ".log")
	if !ok || len(num) != 8 {
		return 0, false
	}
	n, err := strconv.ParseUint(num, 10, 32)
	return uint32(n), err == nil
}

// openItemLog opens the log in dir whose committed end is end (the zero
// logEnd for a store that never stored an item). It truncates the active
// segment to end.off and deletes segments after it: bytes there belong to
// no commit.
func openItemLog(dir string, end logEnd, noSync bool) (*itemLog, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open item log: %w", err)
	}
	l := &itemLog{dir: dir, noSync: noSync, segMax: segmentMax, files: map[uint32]*os.File{}, inflight: map[uint32]int{}}
	segs, err := l.segments()
	if err != nil {
		return nil, err
	}
	for _, seg := range segs {
		if seg > end.seg {
			if err := os.Remove(filepath.Join(dir, segmentName(seg))); err != nil {
				return nil, fmt.Errorf("open item log: drop uncommitted segment: %w", err)
			}
		}
	}
	f, err := os.OpenFile(filepath.Join(dir, segmentName(end.seg)), os.O_RDWR, 0)
	if err == nil {
		var fi os.FileInfo
		if fi, err = f.Stat(); err != nil {
			f.Close()
			return nil, fmt.Errorf("open item log: %w", err)
		}
		switch {
		case fi.Size() > int64(end.off):
			if err := f.Truncate(int64(end.off)); err != nil {
				f.Close()
				return nil, fmt.Errorf("open item log: drop uncommitted records: %w", err)
			}
		case fi.Size() < int64(end.off):
			f.Close()
			f, err = nil, os.ErrNotExist
		}
	}
	if errors.Is(err, os.ErrNotExist) {
		// A missing or short active segment lost committed records (the
		// directory was deleted or replaced behind the store's back). Start
		// the next segment rather than put new records where positions
		// already point; Check reports what was lost.
		if end.off > 0 {
			end = logEnd{seg: end.seg + 1}
		}
		f, err = os.OpenFile(filepath.Join(dir, segmentName(end.seg)), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	}
	if err != nil {
		return nil, fmt.Errorf("open item log: %w", err)
	}
	l.files[end.seg] = f
	l.end = end
	if err := syncDir(dir); err != nil {
		l.close()
		return nil, err
	}
	return l, nil
}

// segments lists the segment numbers in the directory, ascending.
func (l *itemLog) segments() ([]uint32, error) {
	ents, err := os.ReadDir(l.dir)
	if err != nil {
		return nil, fmt.Errorf("list item log: %w", err)
	}
	var segs []uint32
	for _, e := range ents {
		if seg, ok := parseSegmentName(e.Name()); ok && e.Type().IsRegular() {
			segs = append(segs, seg)
		}
	}
	slices.Sort(segs)
	return segs, nil
}

// append writes bodies as consecutive records, starting a new segment
// first when they would not fit in the active one, and returns their
// positions. The caller must call done(pos[0].seg) when the commit that
// refers to them has finished, committed or not.
func (l *itemLog) append(bodies [][]byte) ([]logPos, error) {
	var size int
	for _, b := range bodies {
		if len(b) > maxRecord {
			return nil, fmt.Errorf("append to item log: record of %d bytes is over the limit of %d", len(b), maxRecord)
		}
		size += recordHeader + len(b)
	}
	if size > l.segMax {
		// One source's items never come near 64 MB (a fetch is capped far
		// below); refuse rather than split a commit over segments.
		return nil, fmt.Errorf("append to item log: %d bytes in one commit is over the limit of %d", size, l.segMax)
	}
	buf := make([]byte, 0, size)
	l.mu.Lock()
	defer l.mu.Unlock()
	if int(l.end.off)+size > l.segMax {
		if err := l.rotate(); err != nil {
			return nil, err
		}
	}
	pos := make([]logPos, len(bodies))
	off := l.end.off
	for i, b := range bodies {
		pos[i] = logPos{seg: l.end.seg, off: off, n: uint32(len(b))}
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(b)))
		buf = binary.BigEndian.AppendUint32(buf, crc32.Checksum(b, crcTable))
		buf = append(buf, b...)
		off += uint32(recordHeader + len(b))
	}
	f := l.files[l.end.seg]
	if _, err := f.WriteAt(buf, int64(l.end.off)); err != nil {
		// The bytes may be partly written: they lie past every position
		// handed out, and the next append overwrites them.
		return nil, fmt.Errorf("append to item log %s: %w", f.Name(), err)
	}
	l.end.off = off
	l.dirty = true
	l.inflight[l.end.seg]++
	return pos, nil
}

// rotate syncs the active segment and starts the next one. l.mu is held.
func (l *itemLog) rotate() error {
	// Drop what a failed append may have left past the end, so a finished
	// segment holds whole records only.
	if f := l.files[l.end.seg]; f != nil {
		if err := f.Truncate(int64(l.end.off)); err != nil {
			return fmt.Errorf("finish item log segment: %w", err)
		}
		l.dirty = true
	}
	if err := l.syncLocked(); err != nil {
		return err
	}
	next := l.end.seg + 1
	f, err := os.OpenFile(filepath.Join(l.dir, segmentName(next)), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("start item log segment: %w", err)
	}
	if err := syncDir(l.dir); err != nil {
		f.Close()
		return err
	}
	l.files[next] = f
	l.end = logEnd{seg: next}
	return nil
}

// done ends an append's commit (see append).
func (l *itemLog) done(seg uint32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inflight[seg]--; l.inflight[seg] <= 0 {
		delete(l.inflight, seg)
	}
}

// sync makes every appended record durable and returns the end to record
// with the transaction that refers to them.
//
// The fsync runs without l.mu, so pollers appending their items meanwhile
// do not wait for the disk: whatever they append after the snapshot marks
// the log dirty again, and a rotation syncs the segment it leaves.
func (l *itemLog) sync() (logEnd, error) {
	l.mu.Lock()
	end, f, dirty := l.end, l.files[l.end.seg], l.dirty && !l.noSync
	if dirty {
		l.dirty = false
	}
	l.mu.Unlock()
	if !dirty {
		return end, nil
	}
	if err := f.Sync(); err != nil {
		l.mu.Lock()
		l.dirty = true
		l.mu.Unlock()
		return end, fmt.Errorf("sync item log %s: %w", f.Name(), err)
	}
	return end, nil
}

func (l *itemLog) syncLocked() error {
	if !l.dirty || l.noSync {
		return nil
	}
	f := l.files[l.end.seg]
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync item log %s: %w", f.Name(), err)
	}
	l.dirty = false
	return nil
}

// file returns the open segment seg, opening it if needed.
func (l *itemLog) file(seg uint32) (*os.File, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f := l.files[seg]; f != nil {
		return f, nil
	}
	f, err := os.Open(filepath.Join(l.dir, segmentName(seg)))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errSegmentGone
	}
	if err != nil {
		return nil, fmt.Errorf("open item log segment: %w", err)
	}
	l.files[seg] = f
	return f, nil
}

// read returns the body of the record at p, checked against its header
// and checksum.
func (l *itemLog) read(p logPos) ([]byte, error) {
	if p.n > maxRecord {
		// Positions come from bbolt values; a damaged one must not make
		// us allocate gigabytes.
		return nil, fmt.Errorf("read item log %s at %d: record length %d is over the limit of %d", segmentName(p.seg), p.off, p.n, maxRecord)
	}
	f, err := l.file(p.seg)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, recordHeader+int(p.n))
	if _, err := f.ReadAt(buf, int64(p.off)); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		if errors.Is(err, os.ErrClosed) {
			err = errSegmentGone // deleted while we read
		}
		return nil, fmt.Errorf("read item log %s at %d: %w", segmentName(p.seg), p.off, err)
	}
	body := buf[recordHeader:]
	if n := binary.BigEndian.Uint32(buf); n != p.n {
		return nil, fmt.Errorf("read item log %s at %d: record of %d bytes, want %d", segmentName(p.seg), p.off, n, p.n)
	}
	if sum := binary.BigEndian.Uint32(buf[4:]); sum != crc32.Checksum(body, crcTable) {
		return nil, fmt.Errorf("read item log %s at %d: checksum mismatch", segmentName(p.seg), p.off)
	}
	return body, nil
}

// sweep deletes the segments before the active one that hold no stored
// item and no record of an unfinished commit. live reports whether the
// store counts items in a segment; it is asked only once no commit that
// appended to the segment is still running, so its answer is final.
// sweep returns how many segments it deleted.
func (l *itemLog) sweep(live func(seg uint32) (bool, error)) (int, error) {
	l.sweepMu.Lock()
	defer l.sweepMu.Unlock()
	segs, err := l.segments()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, seg := range segs {
		l.mu.Lock()
		busy := seg >= l.end.seg || l.inflight[seg] > 0
		l.mu.Unlock()
		if busy {
			continue
		}
		if ok, err := live(seg); err != nil || ok {
			if err != nil {
				return n, err
			}
			continue
		}
		l.mu.Lock()
		if f := l.files[seg]; f != nil {
			f.Close() // read-only; a reader racing this gets errSegmentGone
			delete(l.files, seg)
		}
		l.mu.Unlock()
		if err := os.Remove(filepath.Join(l.dir, segmentName(seg))); err != nil && !errors.Is(err, os.ErrNotExist) {
			return n, fmt.Errorf("delete item log segment: %w", err)
		}
		n++
	}
	if n > 0 {
		return n, syncDir(l.dir)
	}
	return n, nil
}

// close closes every segment file.
func (l *itemLog) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	for seg, f := range l.files {
		if err := f.Close(); err != nil {
			errs = append(errs, err)
		}
		delete(l.files, seg)
	}
	if len(errs) > 0 {
		return fmt.Errorf("close item log: %w", errors.Join(errs...))
	}
	return nil
}

// syncDir fsyncs a directory, so entries created or removed in it survive
// a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}
