package notify

import (
	"math/rand/v2"
	"time"
)

// Backoff computes retry delays: Base doubled per failed attempt, capped at
// Max, then shortened by up to Jitter (a fraction in [0,1)) so retries of
// many records do not arrive in lockstep.
type Backoff struct {
	Base   time.Duration
	Max    time.Duration
	Jitter float64
	// Rand returns a number in [0,1); nil means math/rand/v2. Tests pin it.
	Rand func() float64
}

// DefaultBackoff spreads 12 attempts over about eight hours (30s, 1m, 2m,
// … 64m, then 2h), long enough to ride out a receiver's outage of hours.
func DefaultBackoff() Backoff {
	return Backoff{Base: 30 * time.Second, Max: 2 * time.Hour, Jitter: 0.2}
}

// Delay returns the wait after the attempt-th consecutive failure (1-based).
func (b Backoff) Delay(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := b.Base
	for i := 1; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	if b.Jitter > 0 {
		r := b.Rand
		if r == nil {
			r = rand.Float64
		}
		d -= time.Duration(float64(d) * b.Jitter * r())
	}
	return d
}
