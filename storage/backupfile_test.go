package storage

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

// footerFor returns a valid footer claiming count segments from start.
func footerFor(start uint64, count uint32) []byte {
	foot := append([]byte{}, backupMagic...)
	foot = binary.BigEndian.AppendUint64(foot, start)
	foot = binary.BigEndian.AppendUint32(foot, count)
	return binary.BigEndian.AppendUint32(foot, crc32.Checksum(foot, crcTable))
}

// FuzzReadTrailer: Open reads the tail of every store file it opens, so
// no bytes there may panic it or make it name segment bytes outside the
// file. Inputs get a valid footer half of the time, so the segment
// headers behind it are explored too.
func FuzzReadTrailer(f *testing.F) {
	seg := append([]byte(segTag), 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 4)
	seg = append(seg, "body"...)
	f.Add(append([]byte("bbolt bytes"), seg...), uint64(11), uint32(1), true)
	f.Add([]byte("short"), uint64(0), uint32(3), true)
	f.Add([]byte{}, uint64(1<<62), uint32(1<<31), false)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body []byte, start uint64, count uint32, withFooter bool) {
		data := body
		if withFooter {
			data = append(append([]byte{}, body...), footerFor(start, count)...)
		}
		path := filepath.Join(dir, "store.db")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		file, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		size := int64(len(data))
		st, spans, ok, err := readTrailer(file, size)
		if err != nil || !ok {
			return
		}
		if st < 0 || st > size-footerSize {
			t.Fatalf("start %d outside a file of %d bytes", st, size)
		}
		next := st
		for _, sp := range spans {
			if sp.off != next+segHeaderSize || sp.len < 0 || sp.off+sp.len > size-footerSize {
				t.Fatalf("segment span %+v outside [%d, %d)", sp, next, size-footerSize)
			}
			next = sp.off + sp.len
		}
		if next != size-footerSize {
			t.Fatalf("spans end at %d, footer at %d", next, size-footerSize)
		}
	})
}
