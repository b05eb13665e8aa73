package notify_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/notify"
	"github.com/tierwatch/tierwatch/notify/notifytest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// syncBuffer is a bytes.Buffer safe for a logger used from several goroutines.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testLogger() (*slog.Logger, *syncBuffer) {
	var buf syncBuffer
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

// fixedBackoff has no jitter, so retry times are exact.
var fixedBackoff = notify.Backoff{Base: 30 * time.Second, Max: 4 * time.Minute}

type rig struct {
	ob    *notifytest.Outbox
	clock *notifytest.Clock
	n     map[string]*notifytest.Notifier
	d     *notify.Dispatcher
	log   *syncBuffer
}

func newRig(t *testing.T, dests ...config.Destination) *rig {
	t.Helper()
	r := &rig{ob: notifytest.NewOutbox(), clock: notifytest.NewClock(t0), n: map[string]*notifytest.Notifier{}}
	ns := map[string]notify.Notifier{}
	for _, d := range dests {
		r.n[d.Name] = &notifytest.Notifier{Dest: d.Name}
		ns[d.Name] = r.n[d.Name]
	}
	var log *slog.Logger
	log, r.log = testLogger()
	r.d = notify.NewDispatcher(r.ob, ns, config.Alerts{Destinations: dests}, r.clock, log)
	r.d.SetBackoff(fixedBackoff)
	return r
}

// enqueue adds n candidate alerts for dest, one minute of creation apart.
func (r *rig) enqueue(dest string, n int) []model.OutboxRecord {
	var out []model.OutboxRecord
	for i := range n {
		c := model.Candidate{ID: dest + "-cand-" + string(rune('a'+i)), Title: "t", Score: 10}
		r.ob.PutCandidate(c)
		out = append(out, r.ob.Enqueue(model.OutboxRecord{Dest: dest, Event: model.AlertCreated, CandidateID: c.ID, CreatedAt: t0.Add(time.Duration(i) * time.Minute)}))
	}
	return out
}

func (r *rig) state(t *testing.T, id string) (model.OutboxRecord, bool) {
	t.Helper()
	all, _ := r.ob.Outbox("")
	for _, rec := range all {
		if rec.ID == id {
			return rec, true
		}
	}
	return model.OutboxRecord{}, false
}

func sentIDs(n *notifytest.Notifier) []string {
	var ids []string
	for _, m := range n.Sent() {
		ids = append(ids, m.ID())
	}
	return ids
}

func TestDispatcherFailures(t *testing.T) {
	hook := config.Destination{Name: "hook", Type: config.DestWebhook, MaxAttempts: 3}
	fail := func(class model.ErrorClass, status int, ra time.Duration) func(int, notify.Message) error {
		return func(attempt int, m notify.Message) error {
			if attempt > 1 {
				return nil
			}
			return &notify.DeliveryError{Dest: "hook", Class: class, Status: status, RetryAfter: ra, Err: errors.New("boom")}
		}
	}
	tests := []struct {
		name        string
		fail        func(int, notify.Message) error
		wantState   string        // of the first record after one pass
		wantNext    time.Duration // its NextAttempt - t0 when pending
		wantSent    int           // messages delivered in the first pass
		wantAllDead bool          // every record dead (410)
	}{
		{"5xx retried after backoff, queue waits", fail(model.ClassHTTPStatus, 502, 0), model.OutboxPending, 30 * time.Second, 0, false},
		{"network retried", fail(model.ClassNetwork, 0, 0), model.OutboxPending, 30 * time.Second, 0, false},
		{"429 honours Retry-After", fail(model.ClassRateLimited, 429, 7*time.Minute), model.OutboxPending, 7 * time.Minute, 0, false},
		{"400 is a dead letter, queue moves on", fail(model.ClassPermanent, 400, 0), model.OutboxDead, 0, 2, false},
		{"401 is a dead letter", fail(model.ClassAuth, 401, 0), model.OutboxDead, 0, 2, false},
		{"410 disables the destination", fail(model.ClassPermanent, 410, 0), model.OutboxDead, 0, 0, true},
		{"plain error treated as network", func(a int, m notify.Message) error {
			if a == 1 {
				return errors.New("connection reset")
			}
			return nil
		}, model.OutboxPending, 30 * time.Second, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, hook)
			r.n["hook"].Fail = tt.fail
			recs := r.enqueue("hook", 3)
			got, err := r.d.DeliverDue(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.wantSent || len(r.n["hook"].Sent()) != tt.wantSent {
				t.Errorf("delivered %d (notifier saw %d), want %d", got, len(r.n["hook"].Sent()), tt.wantSent)
			}
			first, ok := r.state(t, recs[0].ID)
			if !ok || first.State != tt.wantState || first.Attempts != 1 || first.LastError == "" {
				t.Fatalf("first record = %+v, want state %s after 1 attempt with an error", first, tt.wantState)
			}
			if tt.wantState == model.OutboxPending && first.NextAttempt.Sub(t0) != tt.wantNext {
				t.Errorf("next attempt in %s, want %s", first.NextAttempt.Sub(t0), tt.wantNext)
			}
			if tt.wantAllDead {
				dead, _ := r.ob.Outbox(model.OutboxDead)
				if len(dead) != 3 || r.n["hook"].Attempts() != 1 {
					t.Errorf("dead = %d records after %d sends, want 3 after 1", len(dead), r.n["hook"].Attempts())
				}
			}
			if tt.wantState == model.OutboxPending {
				// Recovery: at the retry time the whole queue goes, in order.
				r.clock.Set(first.NextAttempt)
				if _, err := r.d.DeliverDue(context.Background()); err != nil {
					t.Fatal(err)
				}
				want := []string{recs[0].ID, recs[1].ID, recs[2].ID}
				if got := sentIDs(r.n["hook"]); !equal(got, want) {
					t.Errorf("sent %v, want %v", got, want)
				}
			}
		})
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDispatcherMaxAttempts(t *testing.T) {
	r := newRig(t, config.Destination{Name: "hook", Type: config.DestWebhook, MaxAttempts: 3})
	r.n["hook"].Fail = func(int, notify.Message) error {
		return &notify.DeliveryError{Dest: "hook", Class: model.ClassHTTPStatus, Status: 500, Err: errors.New("down")}
	}
	rec := r.enqueue("hook", 1)[0]
	var gaps []time.Duration
	last := t0
	for range 5 {
		if _, err := r.d.DeliverDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		got, _ := r.state(t, rec.ID)
		if got.State == model.OutboxDead {
			break
		}
		gaps = append(gaps, got.NextAttempt.Sub(last))
		last = got.NextAttempt
		r.clock.Set(got.NextAttempt)
	}
	got, _ := r.state(t, rec.ID)
	if got.State != model.OutboxDead || got.Attempts != 3 {
		t.Errorf("record = %s after %d attempts, want dead after 3", got.State, got.Attempts)
	}
	if want := []time.Duration{30 * time.Second, time.Minute}; len(gaps) != 2 || gaps[0] != want[0] || gaps[1] != want[1] {
		t.Errorf("retry gaps = %v, want %v", gaps, want)
	}
}

func TestDispatcherUnknownDestination(t *testing.T) {
	r := newRig(t, config.Destination{Name: "hook", Type: config.DestWebhook})
	rec := r.enqueue("gone-from-config", 1)[0]
	if _, err := r.d.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.state(t, rec.ID); got.State != model.OutboxDead || got.LastError == "" {
		t.Errorf("record = %+v, want dead with a reason", got)
	}
}

func TestDispatcherRateLimit(t *testing.T) {
	r := newRig(t, config.Destination{Name: "chan", Type: config.DestSlack}) // Slack default: 1s
	recs := r.enqueue("chan", 3)
	steps := []struct {
		advance time.Duration
		want    int
	}{{0, 1}, {500 * time.Millisecond, 0}, {500 * time.Millisecond, 1}, {999 * time.Millisecond, 0}, {time.Millisecond, 1}, {time.Hour, 0}}
	for i, st := range steps {
		r.clock.Advance(st.advance)
		n, err := r.d.DeliverDue(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n != st.want {
			t.Fatalf("step %d at +%s delivered %d, want %d", i, r.clock.Now().Sub(t0), n, st.want)
		}
	}
	if got := sentIDs(r.n["chan"]); !equal(got, []string{recs[0].ID, recs[1].ID, recs[2].ID}) {
		t.Errorf("sent %v out of order", got)
	}
}

func TestDispatcherDigest(t *testing.T) {
	r := newRig(t, config.Destination{Name: "chan", Type: config.DestWebhook, Digest: config.Digest{After: 2, Window: time.Hour}})
	recs := r.enqueue("chan", 6)
	n, err := r.d.DeliverDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sent := r.n["chan"].Sent()
	if n != 6 || len(sent) != 3 {
		t.Fatalf("delivered %d records in %d messages, want 6 in 3 (2 single + 1 digest)", n, len(sent))
	}
	dg := sent[2]
	if len(dg.Records) != 4 || len(dg.Digest) != 4 || dg.Records[0].ID != recs[2].ID || dg.Records[3].ID != recs[5].ID {
		t.Errorf("digest holds %d records / %d candidates, want records 3-6", len(dg.Records), len(dg.Digest))
	}
	if left, _ := r.ob.Outbox(""); len(left) != 0 {
		t.Errorf("%d records left, want all delivered", len(left))
	}
	// Past the window, alerts go one by one again.
	r.clock.Advance(2 * time.Hour)
	r.enqueue("chan", 2)
	if _, err := r.d.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(r.n["chan"].Sent()); got != 5 {
		t.Errorf("after the window: %d messages, want 5", got)
	}
}

// TestDispatcherRun drives Run with the manual clock: a wake-up delivers at
// once; a failed record is retried when the clock reaches its backoff.
func TestDispatcherRun(t *testing.T) {
	r := newRig(t, config.Destination{Name: "hook", Type: config.DestWebhook})
	r.d.SetIdle(time.Hour)
	delivered := make(chan string, 10)
	r.n["hook"].Fail = func(attempt int, m notify.Message) error {
		if attempt == 2 {
			return &notify.DeliveryError{Dest: "hook", Class: model.ClassHTTPStatus, Status: 500, Err: errors.New("blip")}
		}
		delivered <- m.ID()
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.d.Run(ctx) }()

	if w := <-r.clock.Waits(); w != time.Hour {
		t.Fatalf("idle wait = %s, want 1h", w)
	}
	a := r.enqueue("hook", 1)[0]
	r.d.Wake()
	if got := <-delivered; got != a.ID {
		t.Fatalf("delivered %s, want %s", got, a.ID)
	}
	<-r.clock.Waits()
	b := r.enqueue("hook", 1)[0] // fails once, retried after 30s
	r.d.Wake()
	if w := <-r.clock.Waits(); w != 30*time.Second {
		t.Fatalf("wait after a failure = %s, want the 30s backoff", w)
	}
	r.clock.Advance(30 * time.Second)
	if got := <-delivered; got != b.ID {
		t.Fatalf("delivered %s, want %s", got, b.ID)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil on cancel", err)
	}
}
