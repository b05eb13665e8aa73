package storage

// Group commit: Commit calls of concurrent pollers share write
// transactions. It owns no bucket.
//
// bbolt's own Batch waits up to MaxBatchDelay (10ms) for company before it
// commits, which made a warm cycle of 500 sources (every feed a 304, each
// commit a few hundred bytes) slower than one fsync per source. Here the
// first caller commits at once, alone; callers that arrive while a
// transaction runs queue up, and the next of them commits the whole queue
// in one transaction as soon as the running one ends. A lone commit waits
// for nothing, and under load the fsyncs per commit fall with the queue's
// length.

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// commitCall is one queued batch call.
type commitCall struct {
	fn   func(*Tx) error
	done chan error    // its result (buffered)
	lead chan struct{} // told to run the queue (buffered)
}

// groupCommit is the queue of calls waiting for the running transaction.
type groupCommit struct {
	mu    sync.Mutex // guards queue and busy
	queue []*commitCall
	busy  bool // a leader is running a transaction or handing over
}

// errTrySolo tells a call whose fn failed in a shared transaction to run
// alone, so its error (or panic) is its own and the others commit.
var errTrySolo = errors.New("run alone")

// panicked carries a panic of fn out of a shared transaction.
type panicked struct{ v any }

func (p panicked) Error() string { return fmt.Sprintf("panic: %v", p.v) }

// batch runs fn in a write transaction shared with concurrent callers (see
// the file comment). Durability is Update's: batch returns once the
// transaction holding fn's writes is on disk. When one fn fails, the shared
// transaction is rolled back and run again without it, and the failed fn
// then runs alone; so fn may run more than once and must not accumulate
// state outside tx across runs.
func (s *Store) batch(fn func(tx *Tx) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.cands.reset()
			panic(r)
		}
		if err != nil {
			s.cands.reset()
		}
	}()
	g := &s.group
	c := &commitCall{fn: fn, done: make(chan error, 1), lead: make(chan struct{}, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, c)
	if g.busy {
		g.mu.Unlock()
		select {
		case err := <-c.done:
			return s.solo(err, fn)
		case <-c.lead:
		}
	} else {
		g.busy = true
		g.mu.Unlock()
	}
	// Lead: commit everything queued so far (c among it).
	g.mu.Lock()
	calls := g.queue
	g.queue = nil
	g.mu.Unlock()
	func() {
		defer s.handOver() // also when bbolt panics, or the queue would stall
		s.runBatch(calls)
	}()
	return s.solo(<-c.done, fn)
}

// handOver passes leadership to the first queued call, or ends it.
func (s *Store) handOver() {
	g := &s.group
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.queue) > 0 {
		g.queue[0].lead <- struct{}{} // busy stays true: leadership passes on
		return
	}
	g.busy = false
}

// solo runs fn in its own transaction when the shared one told it to.
func (s *Store) solo(err error, fn func(*Tx) error) error {
	if errors.Is(err, errTrySolo) {
		return s.db.Update(s.txFunc(fn))
	}
	return err
}

// runBatch commits calls in one transaction and sends each its result. A
// call whose fn fails or panics is taken out and told to run alone, and the
// rest are committed again without it.
func (s *Store) runBatch(calls []*commitCall) {
	defer func() {
		// A panic outside the calls' fns (in bbolt): fail every call still
		// waiting rather than leave it blocked, and let the leader panic.
		if r := recover(); r != nil {
			for _, c := range calls {
				select {
				case c.done <- panicked{r}:
				default: // already answered
				}
			}
			panic(r)
		}
	}()
	for len(calls) > 0 {
		failed := -1
		err := s.db.Update(func(btx *bolt.Tx) error {
			for i, c := range calls {
				if err := safeCall(s.txFunc(c.fn), btx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed >= 0 {
			calls[failed].done <- errTrySolo
			calls = slices.Delete(calls, failed, failed+1)
			continue
		}
		for _, c := range calls {
			c.done <- err
		}
		return
	}
}

// safeCall calls fn, turning a panic into an error so the leader survives
// another caller's panic (which recurs when that caller runs alone).
func safeCall(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicked{r}
		}
	}()
	return fn(tx)
}
