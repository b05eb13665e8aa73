package storage

// Backup file: one file for the whole store, so a backup is still copied,
// checked and restored as one (README: "copy the backup to
// /var/lib/tierwatch/tierwatch.db"). It is the bbolt copy, then the item
// log's segments, then a footer:
//
//	bbolt copy        tx.WriteTo's bytes
//	per segment       "TWSG", segment (4), length (8), the segment's bytes
//	footer (32)       backupMagic (16), offset of the first segment (8),
//	                  number of segments (4), CRC-32C of the 28 bytes before (4)
//
// bbolt reads only the pages its meta page counts, so the copy opens
// read-only as it is. Open moves the segments into the items directory and
// cuts them off before bbolt opens the file for writing.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// backupMagic starts the footer. The high byte and the line ends make it
// unlikely to occur by chance, like PNG's signature.
var backupMagic = []byte("\x89tw-items\r\n\x1a\n\x00\x00\x01")

const (
	footerSize    = 32
	segHeaderSize = 16
	segTag        = "TWSG"
)

// WriteTo writes a consistent copy of the whole store to w (a hot backup:
// writers continue meanwhile): the bbolt file as of one read transaction
// and the item log segments that transaction refers to. The copy opens
// with Open like the original.
func (s *Store) WriteTo(w io.Writer) (int64, error) {
	// No segment may be deleted until it is copied.
	s.log.sweepMu.RLock()
	defer s.log.sweepMu.RUnlock()
	var n int64
	var end logEnd
	var segs []uint32
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		if n, err = tx.WriteTo(w); err != nil {
			return err
		}
		if v := tx.Bucket(bucketMeta).Get(keyItemLogEnd); v != nil {
			end, _ = decodeEnd(v)
		}
		if b := tx.Bucket(bucketItemSegs); b != nil {
			return b.ForEach(func(k, _ []byte) error {
				if len(k) == 4 {
					segs = append(segs, binary.BigEndian.Uint32(k))
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("back up store %s: %w", s.path, err)
	}
	start := n
	for _, seg := range segs {
		m, err := s.copySegment(w, seg, end)
		n += m
		if err != nil {
			return n, fmt.Errorf("back up store %s: %w", s.path, err)
		}
	}
	foot := make([]byte, 0, footerSize)
	foot = append(foot, backupMagic...)
	foot = binary.BigEndian.AppendUint64(foot, uint64(start))
	foot = binary.BigEndian.AppendUint32(foot, uint32(len(segs)))
	foot = binary.BigEndian.AppendUint32(foot, crc32.Checksum(foot, crcTable))
	m, err := w.Write(foot)
	n += int64(m)
	if err != nil {
		return n, fmt.Errorf("back up store %s: %w", s.path, err)
	}
	return n, nil
}

// copySegment writes segment seg's header and bytes to w: the whole file
// for a segment before end's, which no longer grows, and the committed
// part of end's.
func (s *Store) copySegment(w io.Writer, seg uint32, end logEnd) (int64, error) {
	f, err := s.log.file(seg)
	if err != nil {
		return 0, fmt.Errorf("copy item log segment %s: %w", segmentName(seg), err)
	}
	size := int64(end.off)
	if seg != end.seg {
		fi, err := f.Stat()
		if err != nil {
			return 0, fmt.Errorf("copy item log segment %s: %w", segmentName(seg), err)
		}
		size = fi.Size()
	}
	hdr := append([]byte(segTag), binary.BigEndian.AppendUint32(nil, seg)...)
	hdr = binary.BigEndian.AppendUint64(hdr, uint64(size))
	n, err := w.Write(hdr)
	if err != nil {
		return int64(n), err
	}
	m, err := io.Copy(w, io.NewSectionReader(f, 0, size))
	if err == nil && m < size {
		err = fmt.Errorf("segment %s is %d bytes, want %d", segmentName(seg), m, size)
	}
	return int64(n) + m, err
}

// segSpan is one segment inside a backup file.
type segSpan struct {
	seg      uint32
	off, len int64
}

// readTrailer returns where the bbolt copy ends and the segments that
// follow it, or ok false when f (of size bytes) has no footer.
func readTrailer(f *os.File, size int64) (start int64, spans []segSpan, ok bool, err error) {
	if size < footerSize {
		return 0, nil, false, nil
	}
	foot := make([]byte, footerSize)
	if _, err := f.ReadAt(foot, size-footerSize); err != nil {
		return 0, nil, false, fmt.Errorf("read backup footer: %w", err)
	}
	if string(foot[:16]) != string(backupMagic) {
		return 0, nil, false, nil
	}
	if crc32.Checksum(foot[:28], crcTable) != binary.BigEndian.Uint32(foot[28:]) {
		return 0, nil, false, errors.New("backup footer checksum mismatch")
	}
	start = int64(binary.BigEndian.Uint64(foot[16:]))
	count := binary.BigEndian.Uint32(foot[24:])
	pos := start
	hdr := make([]byte, segHeaderSize)
	for i := uint32(0); i < count; i++ {
		if pos < 0 || pos+segHeaderSize > size-footerSize {
			return 0, nil, false, fmt.Errorf("backup item log: segment %d of %d is cut off", i+1, count)
		}
		if _, err := f.ReadAt(hdr, pos); err != nil {
			return 0, nil, false, fmt.Errorf("read backup item log: %w", err)
		}
		n := int64(binary.BigEndian.Uint64(hdr[8:]))
		if string(hdr[:4]) != segTag || n < 0 || n > segmentMax || pos+segHeaderSize+n > size-footerSize {
			return 0, nil, false, fmt.Errorf("backup item log: bad header of segment %d of %d", i+1, count)
		}
		spans = append(spans, segSpan{seg: binary.BigEndian.Uint32(hdr[4:]), off: pos + segHeaderSize, len: n})
		pos += segHeaderSize + n
	}
	if pos != size-footerSize {
		return 0, nil, false, fmt.Errorf("backup item log: %d stray bytes before the footer", size-footerSize-pos)
	}
	return start, spans, true, nil
}

// unpackBackup moves the item log out of a restored backup at path into
// itemsDir, replacing what was there, and truncates path to its bbolt
// bytes. A file without the footer is left alone. Each step can be redone:
// until the truncation the footer is still there and Open starts again.
func unpackBackup(path, itemsDir string) (err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("restore item log: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("restore item log: %w", cerr)
		}
	}()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("restore item log: %w", err)
	}
	start, spans, ok, err := readTrailer(f, fi.Size())
	if err != nil || !ok {
		if err != nil {
			err = fmt.Errorf("restore item log: %w", err)
		}
		return err
	}
	tmp := itemsDir + ".restore"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("restore item log: %w", err)
	}
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return fmt.Errorf("restore item log: %w", err)
	}
	for _, sp := range spans {
		if err := writeSegment(filepath.Join(tmp, segmentName(sp.seg)), io.NewSectionReader(f, sp.off, sp.len)); err != nil {
			return fmt.Errorf("restore item log: %w", err)
		}
	}
	if err := syncDir(tmp); err != nil {
		return fmt.Errorf("restore item log: %w", err)
	}
	if err := os.RemoveAll(itemsDir); err != nil {
		return fmt.Errorf("restore item log: replace %s: %w", itemsDir, err)
	}
	if err := os.Rename(tmp, itemsDir); err != nil {
		return fmt.Errorf("restore item log: %w", err)
	}
	if err := syncDir(filepath.Dir(itemsDir)); err != nil {
		return fmt.Errorf("restore item log: %w", err)
	}
	if err := f.Truncate(start); err != nil {
		return fmt.Errorf("restore item log: cut the log off the store file: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("restore item log: %w", err)
	}
	return nil
}

// writeSegment writes r to a new file at path and fsyncs it.
func writeSegment(path string, r io.Reader) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// CheckBackup checks a file written by WriteTo without changing it: bbolt's
// consistency check of the copy, and the framing and checksum of every
// record of the item log after it.
func CheckBackup(path string) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("check backup %s: %w", path, err)
	}
	var errs []error
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return nil
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		errs = append(errs, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("check backup %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("check backup %s: %w", path, err)
	}
	_, spans, ok, err := readTrailer(f, fi.Size())
	switch {
	case err != nil:
		errs = append(errs, err)
	case !ok:
		errs = append(errs, errors.New("no item log after the bbolt copy (not written by tierwatch backup)"))
	}
	for _, sp := range spans {
		if err := checkRecords(io.NewSectionReader(f, sp.off, sp.len), sp.len); err != nil {
			errs = append(errs, fmt.Errorf("item log segment %s: %w", segmentName(sp.seg), err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("check backup %s: %w", path, errors.Join(errs...))
	}
	return nil
}

// checkRecords walks the records of a segment of size bytes and checks
// each one's checksum.
func checkRecords(r io.ReaderAt, size int64) error {
	hdr := make([]byte, recordHeader)
	var body []byte
	for off := int64(0); off < size; {
		if off+recordHeader > size {
			return fmt.Errorf("record at %d is cut off", off)
		}
		if _, err := r.ReadAt(hdr, off); err != nil {
			return fmt.Errorf("record at %d: %w", off, err)
		}
		n := int64(binary.BigEndian.Uint32(hdr))
		if off+recordHeader+n > size {
			return fmt.Errorf("record at %d is cut off", off)
		}
		if int64(cap(body)) < n {
			body = make([]byte, n)
		}
		body = body[:n]
		if _, err := r.ReadAt(body, off+recordHeader); err != nil {
			return fmt.Errorf("record at %d: %w", off, err)
		}
		if crc32.Checksum(body, crcTable) != binary.BigEndian.Uint32(hdr[4:]) {
			return fmt.Errorf("record at %d: checksum mismatch", off)
		}
		off += recordHeader + n
	}
	return nil
}
