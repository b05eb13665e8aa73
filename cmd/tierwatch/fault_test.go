package main

// Store faults through the real binary: a full disk under the state
// directory, and damaged store files at start. RELIABILITY.md quotes the
// figures these tests log; run them with
//
//	go test -run 'TestFullDisk|TestCorruptStore' -v ./cmd/tierwatch/

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tierwatch/tierwatch/storage"
)

// mountTmpfs mounts a tmpfs of size bytes at a new directory, or skips
// when this process may not mount (not root, or no CAP_SYS_ADMIN).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0755"); err != nil {
		t.Skipf("cannot mount a tmpfs (%v): the full-disk test needs root or CAP_SYS_ADMIN", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fillDisk writes a file in dir until the file system is full and returns
// its path and size.
func fillDisk(t *testing.T, dir string) (string, int64) {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	var n int64
	for {
		k, err := f.Write(buf)
		n += int64(k)
		if errors.Is(err, syscall.ENOSPC) {
			return path, n
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func checkStore(t *testing.T, stateDir string) int {
	t.Helper()
	st, err := storage.Open(stateDir, storage.Options{})
	if err != nil {
		t.Fatalf("open store after the fault: %v", err)
	}
	defer st.Close()
	if err := st.Check(); err != nil {
		t.Errorf("store corrupted by the fault: %v", err)
	}
	s, err := st.SourceState("feed-0")
	if err != nil {
		t.Fatal(err)
	}
	return int(s.ItemsSeen)
}

func TestFullDiskFailsCleanlyAndResumes(t *testing.T) {
	disk := mountTmpfs(t, "4m")
	srv := newFeedServer(t, 20)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "", srv.URL+"/a")
	// The state lives on the small tmpfs.
	stateDir := filepath.Join(disk, "state")
	raw, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, bytes.Replace(raw, []byte(filepath.Join(dir, "state")), []byte(stateDir), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := tw(t, cfg, "once"); code != 0 {
		t.Fatalf("first once: exit %d\n%s", code, stderr)
	}
	if n := checkStore(t, stateDir); n != 20 {
		t.Fatalf("%d items seen, want 20", n)
	}

	filler, size := fillDisk(t, disk)
	t.Logf("tmpfs full after a %d KiB filler", size>>10)
	// A second feed of new items cannot be stored.
	srv2 := newFeedServer(t, 2000)
	raw, _ = os.ReadFile(cfg) // just written
	if err := os.WriteFile(cfg, bytes.Replace(raw, []byte(srv.URL+"/a"), []byte(srv2.URL+"/big"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := tw(t, cfg, "once")
	t.Logf("once on a full disk: exit %d, stderr:\n%s", code, tailLines(stderr, 3))
	if code == 0 {
		t.Errorf("once on a full disk exited 0; want a failure")
	}
	if strings.Contains(stderr, "panic") || !strings.Contains(stderr, "no space left on device") {
		t.Errorf("want a clean 'no space left on device' error, got:\n%s", stderr)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if n := checkStore(t, stateDir); n != 20 {
		t.Errorf("after the failed write %d items seen, want the 20 from before", n)
	}

	if _, stderr, code := tw(t, cfg, "once"); code != 0 {
		t.Fatalf("once after space returned: exit %d\n%s", code, stderr)
	}
	if n := checkStore(t, stateDir); n != 2020 {
		t.Errorf("after space returned %d items seen, want 2020", n)
	}
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// corruptions damage a real store file in different ways.
var corruptions = []struct {
	name    string
	corrupt func(t *testing.T, path string)
}{
	{"random bytes", func(t *testing.T, path string) {
		b := make([]byte, 64<<10)
		rand.Read(b)
		writeFile(t, path, b)
	}},
	{"truncated to zero bytes", func(t *testing.T, path string) {
		if err := os.Truncate(path, 0); err != nil {
			t.Fatal(err)
		}
	}},
	{"truncated to the meta pages", func(t *testing.T, path string) {
		if err := os.Truncate(path, 8192); err != nil {
			t.Fatal(err)
		}
	}},
	{"data pages overwritten", func(t *testing.T, path string) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// Pages 0 and 1 are the metas (valid checksums); scribble on every
		// page after them.
		for i := 2 * 4096; i < len(b); i++ {
			b[i] = byte(i*7 + 3)
		}
		writeFile(t, path, b)
	}},
	{"a bbolt file of another program", func(t *testing.T, path string) {
		os.Remove(path)
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err }); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}},
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptStoreAtStart(t *testing.T) {
	srv := newFeedServer(t, 50)
	for _, c := range corruptions {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := writeConfig(t, dir, "service:\n  metrics_addr: 127.0.0.1:0\n", srv.URL+"/a")
			if _, stderr, code := tw(t, cfg, "once"); code != 0 {
				t.Fatalf("once: exit %d\n%s", code, stderr)
			}
			c.corrupt(t, filepath.Join(dir, "state", storage.FileName))

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, binPath, "-config", cfg, "run")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			code := -1
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err == nil {
				code = 0
			}
			msg := tailLines(stderr.String(), 1)
			t.Logf("exit %d: %s", code, msg)
			if ctx.Err() != nil {
				t.Fatalf("run kept running on a damaged store for 30s:\n%s", stderr.String())
			}
			// An unrecovered panic exits 2 with a goroutine dump; a
			// recovered one is reported in the error message.
			if strings.Contains(stderr.String(), "goroutine ") {
				t.Errorf("run panicked:\n%s", stderr.String())
			}
			if code != 1 || !strings.Contains(msg, "open store") {
				t.Errorf("exit %d, %q; want 1 and an 'open store' error", code, msg)
			}
		})
	}
}
