package main

// `tierwatch backup FILE`: a consistent copy of the store. With no daemon
// running it opens the store itself; while one runs (it holds the file
// lock) it asks the daemon through POST /backup on the loopback ops
// listener, authenticated with a random token the daemon writes, mode
// 0600, to ops.json in the state directory: whoever can read the state
// can take a backup, nobody else can.

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tierwatch/tierwatch/storage"
)

// opsFileName is the daemon's ops endpoint and token, in the state dir.
const opsFileName = "ops.json"

// opsFile says where a running daemon's ops listener is and how to
// authenticate to it.
type opsFile struct {
	URL   string `json:"url"`
	Token string `json:"token"`
	path  string
}

// writeOpsFile writes a fresh token and url to dir/ops.json, mode 0600.
func writeOpsFile(dir, url string) (*opsFile, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("make ops token: %w", err)
	}
	o := &opsFile{URL: url, Token: hex.EncodeToString(b), path: filepath.Join(dir, opsFileName)}
	data, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("encode ops file: %w", err)
	}
	if err := writeFileAtomic(o.path, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
		return nil, err
	}
	return o, nil
}

// remove deletes the ops file on the way out, so a stale token never
// outlives the daemon that would accept it.
func (o *opsFile) remove(log *slog.Logger) {
	if err := os.Remove(o.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		log.Warn("remove ops file", "err", err)
	}
}

func readOpsFile(dir string) (*opsFile, error) {
	path := filepath.Join(dir, opsFileName)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read ops file: %w", err)
	}
	var o opsFile
	if err := json.Unmarshal(data, &o); err != nil || o.URL == "" || o.Token == "" {
		return nil, fmt.Errorf("read ops file %s: not a tierwatch ops file", path)
	}
	return &o, nil
}

// backupHandler streams a consistent copy of the store (one read
// transaction; writers go on meanwhile). It answers only loopback peers
// that present the token.
func backupHandler(store *storage.Store, token string, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			http.Error(w, "backup is served to loopback clients only", http.StatusForbidden)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			http.Error(w, "missing or wrong token", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Cache-Control", "no-store")
		start := time.Now()
		n, err := store.WriteTo(w)
		if err != nil {
			log.Error("serve backup", "err", err, "bytes", n)
			// Abort the connection so the client sees a truncated
			// stream, not a short file that looks complete.
			panic(http.ErrAbortHandler)
		}
		log.Info("backup served", "bytes", n, "duration", time.Since(start))
	})
}

func cmdBackup(e *env, args []string) error {
	fs := newFlags(e, "backup")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up after this long")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: tierwatch backup [-timeout D] FILE\n\nWrites a consistent copy of the store to FILE (mode 0600), through the\nrunning daemon when there is one.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return &exitError{code: 2}
	}
	dest := fs.Arg(0)
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if _, err := os.Stat(filepath.Join(cfg.StateDir, storage.FileName)); err != nil {
		return fmt.Errorf("no store to back up: %w", err)
	}

	var via string
	// A short lock wait: the daemon holds the lock for good, so waiting
	// longer only delays the switch to its API.
	st, err := storage.Open(cfg.StateDir, storage.Options{LockTimeout: 500 * time.Millisecond})
	switch {
	case err == nil:
		via = "store file"
		err = writeFileAtomic(dest, func(w io.Writer) error { _, err := st.WriteTo(w); return err })
		if cerr := st.Close(); err == nil {
			err = cerr
		}
	case errors.Is(err, storage.ErrLocked):
		via = "running daemon"
		err = backupViaDaemon(ctx, cfg.StateDir, dest)
	}
	if err != nil {
		return err
	}
	if err := storage.CheckBackup(dest); err != nil {
		os.Remove(dest) // a copy that fails its check is worse than none
		return fmt.Errorf("verify backup %s: %w", dest, err)
	}
	fi, err := os.Stat(dest)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "backed up %d bytes to %s (via %s)\n", fi.Size(), dest, via)
	return nil
}

// backupViaDaemon streams POST /backup of the running daemon into dest.
func backupViaDaemon(ctx context.Context, stateDir, dest string) error {
	ops, err := readOpsFile(stateDir)
	if err != nil {
		return fmt.Errorf("the store is locked by a running tierwatch, and its backup endpoint is unknown (metrics_addr must be a loopback address): %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ops.URL+"/backup", nil)
	if err != nil {
		return fmt.Errorf("back up via daemon: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+ops.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("back up via daemon: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512)) // best effort: the status says enough
		return fmt.Errorf("back up via daemon: %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return writeFileAtomic(dest, func(w io.Writer) error {
		if _, err := io.Copy(w, resp.Body); err != nil {
			return fmt.Errorf("read backup stream: %w", err)
		}
		return nil
	})
}

// verifyBolt opens a bbolt file read-only and runs bbolt's full
// consistency check (compact's copy; a backup also carries the item log,
// see storage.CheckBackup).
func verifyBolt(path string) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
}

// writeFileAtomic writes path through a temp file in the same directory,
// fsynced and renamed, mode 0600, then fsyncs the directory; readers see
// the old file or the whole new one, never a part.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()           // already failing; the first error is the one to report
			os.Remove(f.Name()) // best effort: a stray temp file is harmless
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := write(f); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
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
