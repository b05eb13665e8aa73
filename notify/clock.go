package notify

import "time"

// Clock is the dispatcher's time source. NewTimer returns a channel that
// receives once after d and a stop function (like time.Timer.Stop).
// Tests inject a fake (notifytest.Clock) so waits are driven, not slept.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) (<-chan time.Time, func() bool)
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// NewTimer wraps time.NewTimer.
func (RealClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}
