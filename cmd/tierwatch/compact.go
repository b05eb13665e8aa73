package main

// `tierwatch compact`: rewrite the store offline into a new file without
// the free pages bbolt never returns to the file system, then swap it in.
// It refuses while a daemon runs (it holds the file lock).

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tierwatch/tierwatch/storage"
)

// compactTxSize bounds one transaction of the copy (bbolt.Compact commits
// every this many bytes), so memory stays flat on a large store.
const compactTxSize = 64 << 20

func cmdCompact(e *env, args []string) error {
	fs := newFlags(e, "compact")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	path := filepath.Join(cfg.StateDir, storage.FileName)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no store to compact: %w", err)
	}
	// Open the store once first: a restored backup still carries its item
	// log at the end of the file, which only Open moves out (bbolt's
	// compaction would drop it), and an older schema is upgraded.
	st, err := storage.Open(cfg.StateDir, storage.Options{LockTimeout: time.Second})
	if errors.Is(err, storage.ErrLocked) {
		return fmt.Errorf("compact %s: locked by a running tierwatch; stop it first", path)
	}
	if err != nil {
		return fmt.Errorf("compact %s: %w", path, err)
	}
	if err := st.Close(); err != nil {
		return fmt.Errorf("compact %s: %w", path, err)
	}
	// Measured now, after Open moved any restored item log out of the
	// file: that is not space compaction saves.
	before, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("compact %s: %w", path, err)
	}
	after, err := compactFile(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "compacted %s: %d -> %d bytes\n", path, before.Size(), after)
	return nil
}

// compactFile compacts the bbolt file at path in place and returns its new
// size. It holds the old file's lock until the new file is renamed over
// it, so no daemon can start on the old file meanwhile. On any error the
// original is left untouched.
func compactFile(path string) (size int64, err error) {
	src, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return 0, fmt.Errorf("compact %s: locked by a running tierwatch; stop it first", path)
	}
	if err != nil {
		return 0, fmt.Errorf("compact %s: %w", path, err)
	}
	defer func() {
		if cerr := src.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("compact %s: %w", path, cerr)
		}
	}()

	tmp := path + ".compact"
	// A leftover from an interrupted compact is ours to discard.
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("compact %s: %w", path, err)
	}
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return 0, fmt.Errorf("compact %s: %w", path, err)
	}
	if err := bolt.Compact(dst, src, compactTxSize); err != nil {
		dst.Close()    // the copy is being discarded
		os.Remove(tmp) // best effort
		return 0, fmt.Errorf("compact %s: %w", path, err)
	}
	// bbolt fsyncs every commit, so the closed copy is durable.
	if err := dst.Close(); err != nil {
		os.Remove(tmp) // best effort
		return 0, fmt.Errorf("compact %s: %w", path, err)
	}
	if err := verifyBolt(tmp); err != nil {
		os.Remove(tmp) // best effort
		return 0, fmt.Errorf("compact %s: the copy fails its check, original kept: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return 0, fmt.Errorf("compact %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return 0, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("compact %s: %w", path, err)
	}
	return fi.Size(), nil
}
