package notifytest

import (
	"sync"
	"time"
)

// Clock is a manual clock for notify.Clock. Time moves only through
// Advance; timers fire when it passes their deadline. Each NewTimer call is
// announced on Waits, so a test can tell that the code under test is now
// waiting (no sleeps needed).
type Clock struct {
	mu     sync.Mutex // guards now and timers
	now    time.Time
	timers []*fakeTimer
	waits  chan time.Duration
}

type fakeTimer struct {
	at      time.Time
	c       chan time.Time
	stopped bool
}

// NewClock returns a clock reading start.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start, waits: make(chan time.Duration, 64)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Waits receives the duration of every timer created (buffered 64; extra
// announcements are dropped).
func (c *Clock) Waits() <-chan time.Duration { return c.waits }

// NewTimer implements notify.Clock; d <= 0 fires at once.
func (c *Clock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	c.mu.Lock()
	t := &fakeTimer{at: c.now.Add(d), c: make(chan time.Time, 1)}
	if d <= 0 {
		t.c <- c.now
	} else {
		c.timers = append(c.timers, t)
	}
	c.mu.Unlock()
	select {
	case c.waits <- d:
	default:
	}
	stop := func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !t.stopped && len(t.c) == 0
		t.stopped = true
		return was
	}
	return t.c, stop
}

// Advance moves the clock by d and fires timers now due.
func (c *Clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// Set moves the clock to t (never backwards) and fires timers now due.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
	keep := c.timers[:0]
	for _, tm := range c.timers {
		switch {
		case tm.stopped:
		case !tm.at.After(c.now):
			tm.c <- c.now
		default:
			keep = append(keep, tm)
		}
	}
	c.timers = keep
}
