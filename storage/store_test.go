package storage

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tierwatch/tierwatch/model"
)

// t0 is the fixed clock of every test store.
var t0 = time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)

// openTest opens a store in a fresh temp dir with the clock fixed at t0; its
// cleanup checks bbolt and index consistency, then closes it.
func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "state"), Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Check(); err != nil {
			t.Errorf("Check: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestOpenCreatesPrivateDirAndFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "state")
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if got, want := s.Path(), filepath.Join(dir, FileName); got != want {
		t.Errorf("Path() = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		name string
		path string
		want os.FileMode
	}{
		{"dir", dir, 0o700},
		{"file", s.Path(), 0o600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fi, err := os.Stat(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != tc.want {
				t.Errorf("mode of %s = %o, want %o", tc.path, got, tc.want)
			}
		})
	}
}

func TestOpenReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutSourceState(model.SourceState{Name: "aws-news", ETag: `"e1"`}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	st, err := s.SourceState("aws-news")
	if err != nil || st.ETag != `"e1"` {
		t.Errorf("SourceState after reopen = %+v, %v; want ETag \"e1\"", st, err)
	}
}

func TestOpenLockedInProcess(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	const timeout = 100 * time.Millisecond
	start := time.Now()
	_, err = Open(dir, Options{LockTimeout: timeout})
	elapsed := time.Since(start)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open error = %v, want ErrLocked", err)
	}
	if got, want := err.Error(), "state in "+dir+" is locked by a running tierwatch"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	// A loose bound: it must give up near LockTimeout instead of bbolt's
	// default of waiting forever (a hang would end the test run instead).
	if elapsed > timeout+5*time.Second {
		t.Errorf("second Open took %v with LockTimeout %v", elapsed, timeout)
	}
}

const lockChildEnv = "TIERWATCH_STORAGE_LOCK_CHILD_DIR"

func TestOpenLockedByOtherProcess(t *testing.T) {
	if dir := os.Getenv(lockChildEnv); dir != "" {
		// Child: try to open the store the parent holds and report.
		_, err := Open(dir, Options{LockTimeout: 100 * time.Millisecond})
		fmt.Printf("child-locked=%t\nchild-msg=%v\n", errors.Is(err, ErrLocked), err)
		return
	}
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestOpenLockedByOtherProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), lockChildEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	want := "child-locked=true\nchild-msg=state in " + dir + " is locked by a running tierwatch\n"
	if !strings.Contains(string(out), want) {
		t.Errorf("child output:\n%s\nwant it to contain:\n%s", out, want)
	}
}

func TestOpenRejectsForeignFiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	noise := make([]byte, 64<<10)
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	tests := []struct {
		name  string
		write func(t *testing.T, path string)
		want  string
	}{
		{"empty file", writeBytes(nil), "the store file is empty (0 bytes)"},
		{"short text", writeBytes([]byte("hello, not a database\n")), "not a tierwatch store (invalid database)"},
		{"zeros", writeBytes(make([]byte, 16<<10)), "not a tierwatch store (invalid database)"},
		{"random noise", writeBytes(noise), "not a tierwatch store (invalid database)"},
		{"other bbolt database", func(t *testing.T, path string) {
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bolt.Tx) error {
				_, err := tx.CreateBucket([]byte("etcd"))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
		}, "not a tierwatch store (no meta bucket)"},
		{"damaged meta pages", func(t *testing.T, path string) {
			s, err := Open(filepath.Dir(path), Options{})
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// Flip a byte of each meta page's body so both checksums fail.
			data[0x20] ^= 0xff
			data[os.Getpagesize()+0x20] ^= 0xff
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "not a tierwatch store ("},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			tc.write(t, path)
			s, err := Open(dir, Options{LockTimeout: time.Second})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded, want an error")
			}
			if want := "open store " + path + ": " + tc.want; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error = %q, want prefix %q", err, want)
			}
		})
	}
}

func writeBytes(data []byte) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWriteToMakesAnOpenableCopy(t *testing.T) {
	s := openTest(t)
	items := []model.Item{newsItem("g:1", t0), newsItem("g:2", t0.Add(time.Minute))}
	_, err := s.Commit(t.Context(), model.SourceState{Name: "aws-news"}, items, func(tx *Tx, it model.Item) error {
		return tx.PutCandidate(&model.Candidate{ID: "2025-03-04--" + it.Key[2:], Status: model.StatusPending, Keys: []string{"url:" + it.URL}})
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := s.WriteTo(&buf)
	if err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	if n != int64(buf.Len()) || n == 0 {
		t.Errorf("WriteTo returned %d, wrote %d bytes", n, buf.Len())
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cp, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open backup: %v", err)
	}
	defer cp.Close()
	if err := cp.Check(); err != nil {
		t.Errorf("Check backup: %v", err)
	}
	if it, err := cp.Item("aws-news", "g:2"); err != nil || it.Title != items[1].Title {
		t.Errorf("backup Item = %+v, %v", it, err)
	}
	if c, err := cp.Candidate("2025-03-04--1"); err != nil || c.Version != 1 {
		t.Errorf("backup Candidate = %+v, %v", c, err)
	}
	if st, err := cp.SourceState("aws-news"); err != nil || st.ItemsSeen != 2 {
		t.Errorf("backup SourceState = %+v, %v; want ItemsSeen 2", st, err)
	}
}

func TestCheckFindsBrokenIndex(t *testing.T) {
	s := openTest(t)
	err := s.Update(func(tx *Tx) error {
		return tx.PutCandidate(&model.Candidate{ID: "2025-03-04--x", Status: model.StatusPending})
	})
	if err != nil {
		t.Fatal(err)
	}
	// Break the status index behind the store's back.
	breakIt := func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCandStatus).Delete(joinKey(model.StatusPending, []byte("2025-03-04--x")))
	}
	if err := s.db.Update(breakIt); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(); err == nil || !strings.Contains(err.Error(), "no status index entry") {
		t.Errorf("Check = %v, want a missing status index entry", err)
	}
	// Repair so the cleanup Check passes.
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCandStatus).Put(joinKey(model.StatusPending, []byte("2025-03-04--x")), []byte{})
	}); err != nil {
		t.Fatal(err)
	}
}

func TestTxUnusableAfterCallback(t *testing.T) {
	s := openTest(t)
	var kept *Tx
	if err := s.Update(func(tx *Tx) error { kept = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := kept.Candidate("x"); !errors.Is(err, errTxDone) {
		t.Errorf("Candidate on a finished tx = %v, want errTxDone", err)
	}
	if err := kept.Enqueue(model.OutboxRecord{Dest: "slack"}); !errors.Is(err, errTxDone) {
		t.Errorf("Enqueue on a finished tx = %v, want errTxDone", err)
	}
}

func TestSourceStates(t *testing.T) {
	s := openTest(t)
	st, err := s.SourceState("missing")
	if err != nil || st != (model.SourceState{Name: "missing"}) {
		t.Errorf("SourceState(missing) = %+v, %v; want zero with Name", st, err)
	}
	for _, name := range []string{"sam-awards", "aws-news", "ice-register"} {
		if err := s.PutSourceState(model.SourceState{Name: name, ConsecutiveErrors: len(name)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutSourceState(model.SourceState{Name: "bad\x00name"}); err == nil {
		t.Error("PutSourceState accepted a name with NUL")
	}
	all, err := s.SourceStates()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, st := range all {
		names = append(names, st.Name)
	}
	if got, want := strings.Join(names, ","), "aws-news,ice-register,sam-awards"; got != want {
		t.Errorf("SourceStates names = %s, want %s", got, want)
	}
}
