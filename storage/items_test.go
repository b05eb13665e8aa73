package storage

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/model"
	bolt "go.etcd.io/bbolt"
)

func newsItem(key string, firstSeen time.Time) model.Item {
	return model.Item{
		Key:       key,
		URL:       "https://example.com/" + key,
		Title:     "Title of " + key,
		Publisher: "Example",
		Tier:      2,
		FirstSeen: firstSeen,
	}
}

func keysOf(items []model.Item) []string {
	var ks []string
	for _, it := range items {
		ks = append(ks, it.Key)
	}
	return ks
}

func TestCommitDedupes(t *testing.T) {
	longKey := "g:" + strings.Repeat("x", 40000)
	type batch struct {
		source string
		keys   []string
		want   []string // new keys, in order
	}
	tests := []struct {
		name    string
		batches []batch
	}{
		{"all new", []batch{{"a", []string{"g:1", "g:2"}, []string{"g:1", "g:2"}}}},
		{"duplicate within one call", []batch{{"a", []string{"g:1", "g:1", "g:2", "g:1"}, []string{"g:1", "g:2"}}}},
		{"seen in an earlier call", []batch{
			{"a", []string{"g:1", "g:2"}, []string{"g:1", "g:2"}},
			{"a", []string{"g:2", "g:3", "g:1"}, []string{"g:3"}},
			{"a", []string{"g:3"}, nil},
		}},
		{"same key in two sources", []batch{
			{"a", []string{"g:1"}, []string{"g:1"}},
			{"b", []string{"g:1"}, []string{"g:1"}},
		}},
		{"hostile keys", []batch{
			{"a", []string{longKey, "g:nul\x00inside", "g:ünï\u202e"}, []string{longKey, "g:nul\x00inside", "g:ünï\u202e"}},
			{"a", []string{longKey, "g:nul\x00inside", "g:ünï\u202e"}, nil},
		}},
		{"empty batch", []batch{{"a", nil, nil}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t)
			total := map[string]int64{}
			for i, b := range tc.batches {
				var items []model.Item
				for _, k := range b.keys {
					items = append(items, newsItem(k, time.Time{}))
				}
				st, err := s.SourceState(b.source)
				if err != nil {
					t.Fatal(err)
				}
				var called []string
				got, err := s.Commit(t.Context(), st, items, func(tx *Tx, it model.Item) error {
					called = append(called, it.Key)
					return nil
				})
				if err != nil {
					t.Fatalf("batch %d: Commit: %v", i, err)
				}
				if !slices.Equal(keysOf(got), b.want) {
					t.Errorf("batch %d: new = %q, want %q", i, short(keysOf(got)), short(b.want))
				}
				if !slices.Equal(called, b.want) {
					t.Errorf("batch %d: onNew saw %q, want %q", i, short(called), short(b.want))
				}
				for _, it := range got {
					if it.Source != b.source || !it.FirstSeen.Equal(t0) {
						t.Errorf("batch %d: returned item source %q first seen %v, want %q and the clock", i, it.Source, it.FirstSeen, b.source)
					}
					stored, err := s.Item(b.source, it.Key)
					if err != nil || stored.Title != it.Title {
						t.Errorf("batch %d: Item(%q) = %q, %v", i, short([]string{it.Key}), stored.Title, err)
					}
				}
				unseen, err := s.Unseen(b.source, b.keys)
				if err != nil {
					t.Fatal(err)
				}
				if slices.Contains(unseen, true) {
					t.Errorf("batch %d: Unseen after Commit = %v, want all false", i, unseen)
				}
				total[b.source] += int64(len(b.want))
				st, err = s.SourceState(b.source)
				if err != nil || st.ItemsSeen != total[b.source] {
					t.Errorf("batch %d: ItemsSeen = %d, %v; want %d", i, st.ItemsSeen, err, total[b.source])
				}
			}
		})
	}
}

// short abbreviates keys for messages (one test key is 40 kB).
func short(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		if len(k) > 20 {
			k = k[:20] + "…"
		}
		out[i] = k
	}
	return out
}

func TestUnseen(t *testing.T) {
	s := openTest(t)
	if _, err := s.Commit(t.Context(), model.SourceState{Name: "a"}, []model.Item{newsItem("g:1", t0)}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.Unseen("a", []string{"g:1", "g:2", ""})
	if err != nil {
		t.Fatal(err)
	}
	if want := []bool{false, true, true}; !slices.Equal(got, want) {
		t.Errorf("Unseen = %v, want %v", got, want)
	}
	got, err = s.Unseen("b", []string{"g:1"})
	if err != nil || !got[0] {
		t.Errorf("Unseen in another source = %v, %v; want [true]", got, err)
	}
}

func TestCommitRollsBackOnError(t *testing.T) {
	errBoom := errors.New("boom")
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name  string
		ctx   context.Context
		st    model.SourceState
		items []model.Item
		onNew func(tx *Tx, it model.Item) error
		want  error  // errors.Is target, or nil to match wantS only
		wantS string // substring of the message
	}{
		{
			name:  "onNew fails after candidate and outbox writes",
			st:    model.SourceState{Name: "a", ETag: `"new"`},
			items: []model.Item{newsItem("g:2", t0), newsItem("g:3", t0)},
			onNew: func(tx *Tx, it model.Item) error {
				if it.Key == "g:3" {
					return errBoom
				}
				if err := tx.PutCandidate(&model.Candidate{ID: "2025-03-04--two", Status: model.StatusPending, Keys: []string{"url:" + it.URL}}); err != nil {
					return err
				}
				return tx.Enqueue(model.OutboxRecord{Dest: "slack", Event: model.AlertCreated, CandidateID: "2025-03-04--two"})
			},
			want:  errBoom,
			wantS: "commit source a: item g:3: boom",
		},
		{
			name:  "cancelled context",
			ctx:   cancelled,
			st:    model.SourceState{Name: "a", ETag: `"new"`},
			items: []model.Item{newsItem("g:2", t0)},
			want:  context.Canceled,
		},
		{
			name:  "item with empty key",
			st:    model.SourceState{Name: "a", ETag: `"new"`},
			items: []model.Item{newsItem("g:2", t0), newsItem("", t0)},
			wantS: "empty key",
		},
		{
			name:  "item of another source",
			st:    model.SourceState{Name: "a", ETag: `"new"`},
			items: []model.Item{newsItem("g:2", t0), {Key: "g:3", Source: "b"}},
			wantS: `belongs to source "b"`,
		},
		{
			name:  "source without name",
			st:    model.SourceState{ETag: `"new"`},
			items: []model.Item{newsItem("g:2", t0)},
			wantS: "source name is empty",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t)
			if _, err := s.Commit(t.Context(), model.SourceState{Name: "a", ETag: `"old"`}, []model.Item{newsItem("g:1", t0)}, nil); err != nil {
				t.Fatal(err)
			}
			ctx := tc.ctx
			if ctx == nil {
				ctx = t.Context()
			}
			got, err := s.Commit(ctx, tc.st, tc.items, tc.onNew)
			if err == nil {
				t.Fatalf("Commit = %v, nil; want an error", keysOf(got))
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error = %v, want errors.Is %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.wantS) {
				t.Errorf("error = %q, want it to contain %q", err, tc.wantS)
			}
			if got != nil {
				t.Errorf("Commit returned items %v with an error", keysOf(got))
			}
			unseen, err := s.Unseen("a", []string{"g:1", "g:2", "g:3"})
			if err != nil {
				t.Fatal(err)
			}
			if want := []bool{false, true, true}; !slices.Equal(unseen, want) {
				t.Errorf("Unseen = %v, want %v (nothing new marked seen)", unseen, want)
			}
			if _, err := s.Item("a", "g:2"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Item(g:2) error = %v, want ErrNotFound", err)
			}
			st, err := s.SourceState("a")
			if err != nil || st.ETag != `"old"` || st.ItemsSeen != 1 {
				t.Errorf("state = ETag %s ItemsSeen %d (%v), want the old state", st.ETag, st.ItemsSeen, err)
			}
			if cs, err := s.Candidates(""); err != nil || len(cs) != 0 {
				t.Errorf("Candidates = %d, %v; want none", len(cs), err)
			}
			if rs, err := s.Outbox(""); err != nil || len(rs) != 0 {
				t.Errorf("Outbox = %d, %v; want none", len(rs), err)
			}
		})
	}
}

func TestItemsInFirstSeenOrder(t *testing.T) {
	s := openTest(t)
	// 1201 items crosses two chunk boundaries (itemsChunk is 500); they
	// are committed out of order and across two sources.
	const n = 1201
	var a, b []model.Item
	for i := range n {
		j := (i * 7919) % n // a permutation of 0..n-1
		it := newsItem(fmt.Sprintf("g:%04d", j), t0.Add(time.Duration(j)*time.Minute))
		if j%2 == 0 {
			a = append(a, it)
		} else {
			b = append(b, it)
		}
	}
	for src, items := range map[string][]model.Item{"a": a, "b": b} {
		if _, err := s.Commit(t.Context(), model.SourceState{Name: src}, items, nil); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name      string
		since     time.Time
		wantFirst int
	}{
		{"all", time.Time{}, 0},
		{"since is inclusive", t0.Add(10 * time.Minute), 10},
		{"from the middle of a chunk", t0.Add(700 * time.Minute), 700},
		{"after the last", t0.Add(n * time.Minute), n},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.wantFirst
			err := s.Items(t.Context(), tc.since, func(it model.Item) error {
				if got := fmt.Sprintf("g:%04d", want); it.Key != got {
					return fmt.Errorf("got %s, want %s", it.Key, got)
				}
				want++
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if want != n {
				t.Errorf("Items stopped at %d, want %d", want, n)
			}
		})
	}
	t.Run("fn error stops and is wrapped", func(t *testing.T) {
		errStop := errors.New("stop")
		calls := 0
		err := s.Items(t.Context(), time.Time{}, func(model.Item) error {
			calls++
			if calls == 3 {
				return errStop
			}
			return nil
		})
		if !errors.Is(err, errStop) || calls != 3 {
			t.Errorf("Items = %v after %d calls, want errStop after 3", err, calls)
		}
	})
	t.Run("fn may write to the store", func(t *testing.T) {
		calls := 0
		err := s.Items(t.Context(), t0.Add((n-2)*time.Minute), func(it model.Item) error {
			calls++
			return s.PutSourceState(model.SourceState{Name: "touched-by-" + it.Key})
		})
		if err != nil || calls != 2 {
			t.Errorf("Items = %v with %d calls, want nil with 2", err, calls)
		}
	})
}

func TestReplay(t *testing.T) {
	s := openTest(t)
	items := []model.Item{newsItem("g:1", t0), newsItem("g:2", t0)}
	if _, err := s.Commit(t.Context(), model.SourceState{Name: "a"}, items, nil); err != nil {
		t.Fatal(err)
	}
	var stored []model.Item
	if err := s.Items(t.Context(), time.Time{}, func(it model.Item) error { stored = append(stored, it); return nil }); err != nil {
		t.Fatal(err)
	}
	mkCand := func(tx *Tx, it model.Item) error {
		return tx.PutCandidate(&model.Candidate{ID: "2025-03-04--replayed", Status: model.StatusPending, Keys: []string{"url:" + it.URL}})
	}
	errBoom := errors.New("boom")
	failSecond := func(tx *Tx, it model.Item) error {
		if err := mkCand(tx, it); err != nil {
			return err
		}
		if it.Key == "g:2" {
			return errBoom
		}
		return nil
	}
	if err := s.Replay(t.Context(), stored, failSecond); !errors.Is(err, errBoom) {
		t.Fatalf("Replay with failing onItem = %v, want errBoom", err)
	}
	if cs, _ := s.Candidates(""); len(cs) != 0 {
		t.Errorf("failed Replay left %d candidates", len(cs))
	}
	if err := s.Replay(t.Context(), stored, mkCand); err != nil {
		t.Fatal(err)
	}
	cs, err := s.Candidates("")
	if err != nil || len(cs) != 2 {
		t.Fatalf("Candidates after Replay = %d, %v; want 2", len(cs), err)
	}
	if st, _ := s.SourceState("a"); st.ItemsSeen != 2 {
		t.Errorf("Replay changed ItemsSeen to %d", st.ItemsSeen)
	}
}

// waitQueued yields until n commits wait in s's group-commit queue.
func waitQueued(s *Store, n int) {
	for {
		s.group.mu.Lock()
		q := len(s.group.queue)
		s.group.mu.Unlock()
		if q >= n {
			return
		}
		runtime.Gosched()
	}
}

// TestCommitRerunInBatch queues two commits behind a running one, so they
// share the next transaction, and makes one of them fail: the shared
// transaction is rolled back and the other commit runs again, which must
// store its items and count them in ItemsSeen once.
func TestCommitRerunInBatch(t *testing.T) {
	errBad := errors.New("bad item")
	cases := []struct {
		name          string
		goodFirst     bool
		wantGoodCalls int32 // onNew calls of the good commit's 2 items
	}{
		{"good queued first, run again after the failure", true, 4},
		{"failing queued first", false, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t)
			type result struct {
				fresh []model.Item
				err   error
			}
			// A running commit holds the transaction until both have queued.
			entered, release := make(chan struct{}), make(chan struct{})
			blockDone := make(chan result, 1)
			go func() {
				fresh, err := s.Commit(t.Context(), model.SourceState{Name: "blocker"}, []model.Item{newsItem("g:b", t0)},
					func(*Tx, model.Item) error { close(entered); <-release; return nil })
				blockDone <- result{fresh, err}
			}()
			<-entered

			var goodCalls atomic.Int32
			goodDone, badDone := make(chan result, 1), make(chan result, 1)
			runGood := func() {
				fresh, err := s.Commit(t.Context(), model.SourceState{Name: "good"},
					[]model.Item{newsItem("g:1", t0), newsItem("g:2", t0)},
					func(*Tx, model.Item) error { goodCalls.Add(1); return nil })
				goodDone <- result{fresh, err}
			}
			runBad := func() {
				fresh, err := s.Commit(t.Context(), model.SourceState{Name: "bad"}, []model.Item{newsItem("g:x", t0)},
					func(*Tx, model.Item) error { return errBad })
				badDone <- result{fresh, err}
			}
			first, second := runBad, runGood
			if tc.goodFirst {
				first, second = runGood, runBad
			}
			go first()
			waitQueued(s, 1)
			go second()
			waitQueued(s, 2)
			close(release)

			if r := <-blockDone; r.err != nil || len(r.fresh) != 1 {
				t.Fatalf("blocking commit: %d new, %v", len(r.fresh), r.err)
			}
			g, b := <-goodDone, <-badDone
			if g.err != nil || len(g.fresh) != 2 {
				t.Fatalf("good commit: %d new, %v; want 2, nil", len(g.fresh), g.err)
			}
			if !errors.Is(b.err, errBad) {
				t.Fatalf("bad commit: %v, want errBad", b.err)
			}
			if got := goodCalls.Load(); got != tc.wantGoodCalls {
				t.Errorf("good onNew ran %d times, want %d", got, tc.wantGoodCalls)
			}
			st, err := s.SourceState("good")
			if err != nil {
				t.Fatal(err)
			}
			if st.ItemsSeen != 2 {
				t.Errorf("ItemsSeen %d, want 2", st.ItemsSeen)
			}
			if _, err := s.Item("bad", "g:x"); !errors.Is(err, ErrNotFound) {
				t.Errorf("item of the failed commit: %v, want ErrNotFound", err)
			}
		})
	}
}

// TestCommitPanicInBatch: a panicking onNew panics in its own caller and
// leaves the queue working for the others.
func TestCommitPanicInBatch(t *testing.T) {
	s := openTest(t)
	entered, release := make(chan struct{}), make(chan struct{})
	blockErr := make(chan error, 1)
	go func() {
		_, err := s.Commit(t.Context(), model.SourceState{Name: "blocker"}, []model.Item{newsItem("g:b", t0)},
			func(*Tx, model.Item) error { close(entered); <-release; return nil })
		blockErr <- err
	}()
	<-entered
	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		_, _ = s.Commit(t.Context(), model.SourceState{Name: "panicky"}, []model.Item{newsItem("g:p", t0)},
			func(*Tx, model.Item) error { panic("boom") })
	}()
	waitQueued(s, 1)
	goodErr := make(chan error, 1)
	go func() {
		_, err := s.Commit(t.Context(), model.SourceState{Name: "good"}, []model.Item{newsItem("g:1", t0)}, nil)
		goodErr <- err
	}()
	waitQueued(s, 2)
	close(release)
	if err := <-blockErr; err != nil {
		t.Fatalf("blocking commit: %v", err)
	}
	if r := <-panicked; r != "boom" {
		t.Errorf("panicking commit recovered %v, want boom", r)
	}
	if err := <-goodErr; err != nil {
		t.Fatalf("good commit: %v", err)
	}
	if _, err := s.Item("good", "g:1"); err != nil {
		t.Errorf("good item: %v", err)
	}
	// The queue still works.
	if _, err := s.Commit(t.Context(), model.SourceState{Name: "after"}, []model.Item{newsItem("g:2", t0)}, nil); err != nil {
		t.Errorf("commit after the panic: %v", err)
	}
}

// TestItemPagesFilled: sources commit runs of items, interleaved as
// pollers finish. item_times, whose keys (time, then log position) only
// grow, must come out mostly full: bbolt's default half-page split leaves
// such a bucket half full. (seen, whose runs land all over the key space,
// ends near 64% at either fill in this pattern.)
func TestItemPagesFilled(t *testing.T) {
	s := openTest(t)
	const sources, perSource = 200, 50
	for round := range 2 {
		for src := range sources {
			name := fmt.Sprintf("feed-%02d", (src*7)%sources) // not in key order
			st, err := s.SourceState(name)
			if err != nil {
				t.Fatal(err)
			}
			var items []model.Item
			for i := range perSource / 2 {
				it := newsItem(fmt.Sprintf("g:%s-story-%03d", name, round*perSource/2+i), time.Time{})
				it.Summary = strings.Repeat("Summary text of a story. ", 16)
				items = append(items, it)
			}
			if _, err := s.Commit(t.Context(), st, items, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketSeen, bucketItemTimes} {
			st := tx.Bucket(name).Stats()
			if st.KeyN != sources*perSource {
				t.Errorf("%s: %d keys, want %d", name, st.KeyN, sources*perSource)
			}
			if fill := float64(st.LeafInuse) / float64(st.LeafAlloc); string(name) == string(bucketItemTimes) && fill < 0.7 {
				t.Errorf("%s: leaf pages %.0f%% full (%d of %d bytes), want at least 70%%",
					name, 100*fill, st.LeafInuse, st.LeafAlloc)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
