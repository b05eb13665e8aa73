package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
)

// Outbox is the dispatcher's view of the store; *storage.Store implements
// it. OutboxDue returns, for each destination, only its lowest-Seq pending
// record if due (strict order per destination). OutboxResult loads a
// record, lets fn change it and saves it in its own short transaction.
type Outbox interface {
	OutboxDue(now time.Time, limit int) ([]model.OutboxRecord, error)
	OutboxResult(id string, fn func(*model.OutboxRecord)) error
	Candidate(id string) (model.Candidate, error)
}

// Lister is optionally implemented by an Outbox (*storage.Store does): it
// lets the dispatcher gather a destination's whole due queue for a digest
// and find when the next retry is due. Without it digests are off and the
// dispatcher relies on its idle poll.
type Lister interface {
	Outbox(state string) ([]model.OutboxRecord, error)
}

// batchLimit bounds one OutboxDue read; a pass reads again until no
// destination can make progress.
const batchLimit = 100

// DefaultIdle is the longest Run waits without a wake-up or a known due
// time: it catches records written by another process (`outbox retry`).
const DefaultIdle = time.Minute

// Dispatcher delivers due outbox records to their destinations' notifiers.
// DeliverDue and Run must not be called concurrently with each other; Wake
// is safe from any goroutine.
type Dispatcher struct {
	ob        Outbox
	notifiers map[string]Notifier
	dests     map[string]config.Destination
	clock     Clock
	log       *slog.Logger
	backoff   Backoff
	idle      time.Duration
	wake      chan struct{} // buffered(1): a pending wake-up

	mu    sync.Mutex            // guards state and next
	state map[string]*destState // per destination, in memory only
	next  time.Time             // earliest known time a record becomes due; zero: unknown
}

// destState is what the dispatcher remembers about one destination. It is
// lost on restart: a disabled destination is tried once more (and disabled
// again by its 410), and digest counting starts afresh.
type destState struct {
	notBefore time.Time   // rate limit gap or Retry-After
	sent      []time.Time // successful sends within the digest window
	disabled  bool        // the receiver answered 410 Gone
}

// NewDispatcher returns a dispatcher for the destinations of cfg (defaults
// applied) with their notifiers, keyed by destination name. A record whose
// destination has no notifier is dead-lettered. log is narrowed with
// component=notify.
func NewDispatcher(ob Outbox, notifiers map[string]Notifier, cfg config.Alerts, clock Clock, log *slog.Logger) *Dispatcher {
	if clock == nil {
		clock = RealClock{}
	}
	if log == nil {
		log = slog.Default()
	}
	cfg = cfg.WithDefaults()
	dests := make(map[string]config.Destination, len(cfg.Destinations))
	for _, d := range cfg.Destinations {
		dests[d.Name] = d
	}
	return &Dispatcher{
		ob:        ob,
		notifiers: notifiers,
		dests:     dests,
		clock:     clock,
		log:       log.With("component", "notify"),
		backoff:   DefaultBackoff(),
		idle:      DefaultIdle,
		wake:      make(chan struct{}, 1),
		state:     map[string]*destState{},
	}
}

// SetBackoff replaces the retry backoff (tests pin its jitter). Call it
// before Run.
func (d *Dispatcher) SetBackoff(b Backoff) { d.backoff = b }

// SetIdle sets the longest wait of Run between passes (default
// DefaultIdle). Call it before Run.
func (d *Dispatcher) SetIdle(idle time.Duration) { d.idle = idle }

// Wake makes Run start a pass now (a new record was enqueued). It never
// blocks; wake-ups while one is pending coalesce.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers due records until ctx is done, then returns nil. Between
// passes it waits on ctx, Wake, or the clock's timer for the next known due
// time (at most the idle interval). Storage errors are logged and retried
// at the idle interval.
func (d *Dispatcher) Run(ctx context.Context) error {
	for {
		wait := d.idle
		if _, err := d.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("outbox pass failed", "err", err)
		} else if next := d.takeNext(); !next.IsZero() {
			wait = min(wait, max(next.Sub(d.clock.Now()), 0))
		}
		if ctx.Err() != nil {
			return nil
		}
		timer, stop := d.clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			stop()
			return nil
		case <-d.wake:
			stop()
		case <-timer:
		}
	}
}

// DeliverDue runs one pass: it sends due records, one destination's queue
// in order, until no destination can make progress now (queues empty,
// waiting on backoff or on the rate limit). It returns the number of
// records delivered. Delivery failures are recorded on the records, not
// returned; the error is a storage failure or ctx's error.
func (d *Dispatcher) DeliverDue(ctx context.Context) (int, error) {
	delivered := 0
	for {
		if err := ctx.Err(); err != nil {
			return delivered, err
		}
		now := d.clock.Now()
		recs, err := d.ob.OutboxDue(now, batchLimit)
		if err != nil {
			return delivered, fmt.Errorf("read outbox: %w", err)
		}
		progressed := false
		for _, r := range recs {
			n, acted, err := d.deliver(ctx, r, now)
			delivered += n
			if err != nil {
				return delivered, err
			}
			progressed = progressed || acted
		}
		if !progressed {
			break
		}
	}
	if err := d.noteNextRetry(); err != nil {
		return delivered, err
	}
	if delivered > 0 {
		d.log.Info("outbox pass", "delivered", delivered)
	}
	return delivered, nil
}

// deliver handles one due record: it reports how many records were
// delivered and whether the record's state changed (so the pass goes on).
func (d *Dispatcher) deliver(ctx context.Context, r model.OutboxRecord, now time.Time) (int, bool, error) {
	log := d.log.With("dest", r.Dest, "outbox_id", r.ID, "candidate_id", r.CandidateID)
	cfg, known := d.dests[r.Dest]
	n := d.notifiers[r.Dest]
	st := d.destState(r.Dest)
	switch {
	case !known || n == nil:
		log.Error("alert dead-lettered", "err", "destination is not configured")
		return 0, true, d.markDead(r, r.Attempts, "destination is not configured")
	case st.disabled:
		log.Error("alert dead-lettered", "err", "destination disabled after 410 Gone")
		return 0, true, d.markDead(r, r.Attempts, "destination disabled: receiver answered 410 Gone")
	case now.Before(st.notBefore):
		d.noteNext(st.notBefore)
		return 0, false, nil
	}

	msg, err := d.message(r, cfg, st, now)
	if err != nil {
		// The candidate could not be read: retry like a failed send, so a
		// store hiccup does not drop the alert and a pruned candidate
		// ends as a visible dead letter.
		return 0, true, d.failed(log, r, cfg, st, &DeliveryError{Dest: r.Dest, Class: model.ClassStorage, Err: err}, now)
	}
	_, err = n.Send(ctx, msg) // no store transaction is open here
	sentAt := d.clock.Now()
	d.mu.Lock()
	st.notBefore = sentAt.Add(cfg.Rate)
	d.mu.Unlock()
	if err != nil {
		if ctx.Err() != nil {
			// Shutting down mid-send: the attempt says nothing about the
			// receiver; leave the record as it was.
			return 0, false, ctx.Err()
		}
		return 0, true, d.failed(log, r, cfg, st, err, sentAt)
	}
	d.mu.Lock()
	st.sent = append(st.sent, sentAt)
	d.mu.Unlock()
	for _, rec := range msg.Records {
		err := d.ob.OutboxResult(rec.ID, func(o *model.OutboxRecord) {
			o.State = model.OutboxDelivered
			o.Attempts++
			o.DeliveredAt = sentAt
			o.LastError = ""
		})
		if err != nil {
			return 0, true, fmt.Errorf("record delivery of %s to %s: %w", rec.ID, rec.Dest, err)
		}
	}
	log.Debug("alert delivered", "event", r.Event, "attempt", r.Attempts+1, "records", len(msg.Records))
	return len(msg.Records), true, nil
}

// message builds what to send for r: a digest of the destination's due
// queue when it is over its digest threshold, else r with its candidate.
func (d *Dispatcher) message(r model.OutboxRecord, cfg config.Destination, st *destState, now time.Time) (Message, error) {
	msg := Message{Record: r, Records: []model.OutboxRecord{r}}
	if recs, ok := d.digestQueue(r, cfg, st, now); ok {
		msg.Records = recs
		for _, rec := range recs {
			if rec.CandidateID == "" {
				continue
			}
			c, err := d.ob.Candidate(rec.CandidateID)
			if err != nil {
				return Message{}, fmt.Errorf("load candidate %s: %w", rec.CandidateID, err)
			}
			msg.Digest = append(msg.Digest, c)
		}
		return msg, nil
	}
	if r.CandidateID != "" {
		c, err := d.ob.Candidate(r.CandidateID)
		if err != nil {
			return Message{}, fmt.Errorf("load candidate %s: %w", r.CandidateID, err)
		}
		msg.Candidate = &c
	}
	return msg, nil
}

// digestQueue returns the destination's due pending records, r first, when
// digest mode applies: Digest.After messages already went out within
// Digest.Window and more than one record is due.
func (d *Dispatcher) digestQueue(r model.OutboxRecord, cfg config.Destination, st *destState, now time.Time) ([]model.OutboxRecord, bool) {
	l, ok := d.ob.(Lister)
	if !ok || cfg.Digest.After <= 0 {
		return nil, false
	}
	d.mu.Lock()
	cutoff := now.Add(-cfg.Digest.Window)
	i := 0
	for i < len(st.sent) && !st.sent[i].After(cutoff) {
		i++
	}
	st.sent = st.sent[i:]
	busy := len(st.sent) >= cfg.Digest.After
	d.mu.Unlock()
	if !busy {
		return nil, false
	}
	all, err := l.Outbox(model.OutboxPending)
	if err != nil {
		d.log.Warn("read outbox for digest", "dest", r.Dest, "err", err)
		return nil, false // send r alone; the digest can wait
	}
	recs := []model.OutboxRecord{r}
	for _, o := range all { // sorted by dest, seq
		if o.Dest == r.Dest && o.ID != r.ID && o.Seq > r.Seq && !o.NextAttempt.After(now) {
			recs = append(recs, o)
		}
	}
	return recs, len(recs) > 1
}

// failed records a failed attempt: retry later, or dead-letter it.
func (d *Dispatcher) failed(log *slog.Logger, r model.OutboxRecord, cfg config.Destination, st *destState, err error, now time.Time) error {
	var de *DeliveryError
	if !errors.As(err, &de) {
		de = &DeliveryError{Dest: r.Dest, Class: model.ClassNetwork, Err: Redact(err, urlSecrets(cfg.URL.Value())...)}
	}
	attempts := r.Attempts + 1
	msg := de.Error()
	switch {
	case de.IsGone():
		d.mu.Lock()
		st.disabled = true
		d.mu.Unlock()
		log.Error("destination disabled", "err", msg, "attempt", attempts)
		return d.markDead(r, attempts, msg)
	case !de.IsRetryable():
		log.Error("alert dead-lettered", "err", msg, "attempt", attempts)
		return d.markDead(r, attempts, msg)
	case attempts >= cfg.MaxAttempts:
		log.Error("alert dead-lettered", "err", msg, "attempt", attempts, "reason", "out of attempts")
		return d.markDead(r, attempts, msg)
	}
	wait := d.backoff.Delay(attempts)
	if de.Class == model.ClassRateLimited && de.RetryAfter > 0 {
		wait = de.RetryAfter
		d.mu.Lock()
		st.notBefore = later(st.notBefore, now.Add(wait))
		d.mu.Unlock()
	}
	next := now.Add(wait)
	// Log a repeating failure once; again only when it changes.
	level := slog.LevelDebug
	if attempts == 1 || msg != r.LastError {
		level = slog.LevelWarn
	}
	log.Log(context.Background(), level, "alert delivery failed, will retry", "err", msg, "attempt", attempts, "next_attempt", next)
	d.noteNext(next)
	err = d.ob.OutboxResult(r.ID, func(o *model.OutboxRecord) {
		o.Attempts = attempts
		o.NextAttempt = next
		o.LastError = msg
	})
	if err != nil {
		return fmt.Errorf("record failed delivery of %s to %s: %w", r.ID, r.Dest, err)
	}
	return nil
}

func (d *Dispatcher) markDead(r model.OutboxRecord, attempts int, msg string) error {
	err := d.ob.OutboxResult(r.ID, func(o *model.OutboxRecord) {
		o.State = model.OutboxDead
		o.Attempts = attempts
		o.LastError = msg
	})
	if err != nil {
		return fmt.Errorf("dead-letter %s to %s: %w", r.ID, r.Dest, err)
	}
	return nil
}

func (d *Dispatcher) destState(name string) *destState {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.state[name]
	if st == nil {
		st = &destState{}
		d.state[name] = st
	}
	return st
}

// noteNextRetry asks the Lister, when there is one, for the earliest retry
// of a pending record still in the future.
func (d *Dispatcher) noteNextRetry() error {
	l, ok := d.ob.(Lister)
	if !ok {
		return nil
	}
	recs, err := l.Outbox(model.OutboxPending)
	if err != nil {
		return fmt.Errorf("read outbox: %w", err)
	}
	now := d.clock.Now()
	for _, r := range recs {
		if r.NextAttempt.After(now) {
			d.noteNext(r.NextAttempt)
		}
	}
	return nil
}

func (d *Dispatcher) noteNext(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.next.IsZero() || t.Before(d.next) {
		d.next = t
	}
}

// takeNext returns and clears the earliest known due time.
func (d *Dispatcher) takeNext() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := d.next
	d.next = time.Time{}
	return t
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
