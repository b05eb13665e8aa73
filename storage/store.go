// Package storage is tierwatch's persistent state: one bbolt file,
// tierwatch.db, and the item log, items/, in the state directory.
//
// It holds source state, the seen set and stored items, candidate events with
// their indexes, the alert outbox and the append-only decision log. Every
// change that must be atomic (an item marked seen, the candidate it creates
// or extends, the outbox records it causes) happens in one bbolt Update; see
// Store.Commit.
//
// The bodies of stored items live in the item log, append-only segment
// files outside the bbolt file (itemlog.go says why); bbolt holds where
// each is. A backup (WriteTo) is still one file: the bbolt copy with the
// log's segments after it, which Open moves back out (backupfile.go).
//
// Invariants: transactions are short and never nested; values are decoded
// inside the transaction and no []byte from bbolt escapes it; keys that must
// sort are big-endian; nothing is deleted while a cursor iterates (keys are
// collected first). A Store is safe for concurrent use; a Tx is not, and is
// valid only inside the callback it was passed to. Values are JSON-encoded
// model types, so the file stays readable with `bbolt get`.
package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
)

// FileName is the name of the store file inside the state directory.
const FileName = "tierwatch.db"

// schemaVersion is written to the meta bucket of a new store. Open refuses a
// file whose schema is newer than the code and upgrades older ones:
// version 2 moved candidate sources, matches and keys out of the
// candidate's value into cand_parts (candparts.go); version 3 moved item
// bodies out of the file into the item log (itemlog.go).
const schemaVersion = 3

// Sentinel errors.
var (
	// ErrNotFound is returned when a candidate, item, outbox record or
	// decision id is unknown.
	ErrNotFound = errors.New("not found")
	// ErrLocked is returned (wrapped) by Open when another process holds the
	// store's lock for longer than Options.LockTimeout.
	ErrLocked = errors.New("store is locked")
	// ErrStale is returned (wrapped, with both versions in the message) by
	// UpdateCandidate when the caller's version differs from the stored one.
	ErrStale = errors.New("stale version")
)

// Options tune Open. The zero value is ready to use.
type Options struct {
	// LockTimeout bounds the wait for the file lock; default 3s. bbolt's
	// own default waits forever, which would hang a second `tierwatch run`.
	LockTimeout time.Duration
	// NoSync skips fsync after each commit: for benchmarks only, a crash
	// may lose or corrupt data.
	NoSync bool
	// Now supplies the time for defaults the caller left zero (an item's
	// FirstSeen, an outbox record's CreatedAt); nil means time.Now.
	Now func() time.Time
}

// DefaultLockTimeout is used when Options.LockTimeout is zero.
const DefaultLockTimeout = 3 * time.Second

// Store is an open tierwatch.db. It is safe for concurrent use; bbolt
// serialises writers and lets readers run beside them.
type Store struct {
	db   *bolt.DB
	path string
	now  func() time.Time

	// Prune's per-transaction limits; fixed after Open.
	pruneBatch, pruneScan int

	// cands caches decoded open candidates for write transactions.
	cands candCache
	// group queues Commit calls for shared transactions (group.go).
	group groupCommit
	// log holds the bodies of stored items (itemlog.go).
	log *itemLog
}

// lockedError is the error Open returns on lock timeout: its message is
// fixed because operators (and cmd tests) read it verbatim.
type lockedError struct{ dir string }

func (e *lockedError) Error() string {
	return fmt.Sprintf("state in %s is locked by a running tierwatch", e.dir)
}

func (e *lockedError) Unwrap() error { return ErrLocked }

// Open opens (creating if needed) dir/tierwatch.db. A missing dir is
// created with mode 0700 and a new file with mode 0600. When another process
// holds the file, Open waits up to opts.LockTimeout and then returns an error
// wrapping ErrLocked whose message is exactly
// "state in <dir> is locked by a running tierwatch". A file that is not a
// bbolt database, or a bbolt database without tierwatch's meta bucket, gives
// "open store <path>: not a tierwatch store (…)". The caller must Close the
// store.
func Open(dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	path := filepath.Join(dir, FileName)
	// bbolt silently initialises an empty file as a new database. An empty
	// store file is a store that lost its contents (an operator's "> file",
	// a broken disk); starting afresh on it would forget every seen item
	// and alert on all of them again, so refuse and say what to do. (A file
	// another process is creating at this instant is empty for microseconds
	// under its lock; that race is accepted.)
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Size() == 0 {
		return nil, fmt.Errorf("open store %s: %w", path, ErrEmpty)
	}
	// A restored backup carries the item log after the bbolt bytes; move it
	// out before bbolt, which would write over it, opens the file. Without
	// the store's lock this could race a running daemon, but a daemon's
	// own file never carries a backup's trailer.
	if err := unpackBackup(path, filepath.Join(dir, ItemsDirName)); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	timeout := opts.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	db, err := openBolt(path, &bolt.Options{Timeout: timeout, NoSync: opts.NoSync})
	switch {
	case errors.Is(err, bolt.ErrTimeout):
		return nil, &lockedError{dir: dir}
	case errors.Is(err, bolt.ErrInvalid), errors.Is(err, bolt.ErrVersionMismatch),
		errors.Is(err, bolt.ErrChecksum), errors.Is(err, errBoltPanic):
		return nil, fmt.Errorf("open store %s: not a tierwatch store (%w)", path, err)
	case err != nil:
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s := &Store{db: db, path: path, now: now, pruneBatch: defaultPruneBatch, pruneScan: defaultPruneScan}
	if err := s.openLog(filepath.Join(dir, ItemsDirName), opts.NoSync); err != nil {
		_ = db.Close() // the log error is the one worth reporting
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := s.init(); err != nil {
		// The init error is the one worth reporting; a close error on a
		// store we never used adds nothing.
		_ = s.log.close()
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

// openLog opens the item log at the end the store last recorded.
func (s *Store) openLog(dir string, noSync bool) error {
	var end logEnd
	err := s.db.View(func(tx *bolt.Tx) error {
		if meta := tx.Bucket(bucketMeta); meta != nil {
			if v := meta.Get(keyItemLogEnd); v != nil {
				var ok bool
				if end, ok = decodeEnd(v); !ok {
					return fmt.Errorf("bad item log end %x", v)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.log, err = openItemLog(dir, end, noSync)
	return err
}

var errBoltPanic = errors.New("bbolt panicked reading the file")

// ErrEmpty is returned by Open when the store file exists but holds no
// bytes.
var ErrEmpty = errors.New("the store file is empty (0 bytes): restore it from a backup (tierwatch backup), " +
	"or delete it to start a new store, in which every item of every feed is new again")

// openBolt calls bolt.Open and turns a panic on a damaged file into an
// error. bbolt validates the meta pages' checksums, so a panic needs a file
// with valid metas and damaged pages; if it happens the file descriptor
// leaks, which is acceptable for a process that is about to exit.
//
// A file cut short behind the store's back has metas that name pages past
// its end; bbolt maps at least 32 KB, so reading such a page inside the
// mapping is a SIGBUS, which would kill the process. SetPanicOnFault turns
// that fault, on this goroutine, into a panic recovered here.
func openBolt(path string, o *bolt.Options) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); fault {
				r = "a page lies past the end of the file (cut short?)"
			}
			db, err = nil, fmt.Errorf("%w: %v", errBoltPanic, r)
		}
	}()
	return bolt.Open(path, 0o600, o)
}

// init creates the buckets of a new store, or checks that an existing bbolt
// file is a tierwatch store of a schema this code understands.
func (s *Store) init() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			foreign := false
			// ForEach only reads; the callback returns no error.
			_ = tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
				foreign = true
				return nil
			})
			if foreign {
				return errors.New("not a tierwatch store (no meta bucket)")
			}
			var err error
			if meta, err = tx.CreateBucket(bucketMeta); err != nil {
				return fmt.Errorf("create bucket meta: %w", err)
			}
			if err := meta.Put(keySchema, u64(schemaVersion)); err != nil {
				return fmt.Errorf("write schema version: %w", err)
			}
		}
		v := meta.Get(keySchema)
		if len(v) != 8 {
			return errors.New("not a tierwatch store (no schema version)")
		}
		ver := be64(v)
		if ver > schemaVersion {
			return fmt.Errorf("schema version %d is newer than this tierwatch understands (%d)", ver, schemaVersion)
		}
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		if ver < 2 {
			if err := migrateCandidates(tx); err != nil {
				return fmt.Errorf("upgrade schema 1 to 2: %w", err)
			}
		}
		if ver < 3 {
			if err := s.migrateItems(tx); err != nil {
				return fmt.Errorf("upgrade schema 2 to 3: %w", err)
			}
		}
		if ver != schemaVersion {
			return meta.Put(keySchema, u64(schemaVersion))
		}
		return nil
	})
}

// Close closes the file and releases the lock. It waits for open read
// transactions to finish.
func (s *Store) Close() error {
	err := s.db.Close()
	if lerr := s.log.close(); err == nil {
		err = lerr
	}
	if err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	return nil
}

// Path returns the path of the store file.
func (s *Store) Path() string { return s.path }

// Check runs bbolt's consistency check and tierwatch's index checks in one
// read transaction and returns all problems joined (nil when consistent).
func (s *Store) Check() error {
	var errs []error
	err := s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		errs = append(errs, checkIndexes(tx, s.log)...)
		return nil
	})
	if err != nil {
		return fmt.Errorf("check store %s: %w", s.path, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("check store %s: %w", s.path, errors.Join(errs...))
	}
	return nil
}
