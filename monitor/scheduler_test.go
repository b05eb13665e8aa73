package monitor

import (
	"runtime"
	"testing"

	"github.com/tierwatch/tierwatch/config"
)

// TestSchedulerSetTwiceBeforeDuePollRuns: Set starts the first poll of a due
// source in a goroutine. A second Set (a reload) that reschedules the source
// before that goroutine runs removes its cron entry; the goroutine must still
// run the job it was started for instead of looking up a removed entry (a
// zero Entry, whose nil job panics outside cron's Recover and takes the
// daemon down).
func TestSchedulerSetTwiceBeforeDuePollRuns(t *testing.T) {
	// One P: the goroutine Set starts cannot run before this goroutine
	// blocks, so the second Set always wins the race it would otherwise
	// win only sometimes.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	tests := []struct {
		name   string
		first  config.Source
		second []config.Source
	}{
		{"rescheduled", config.Source{Name: "a", URL: "file:///nonexistent", Schedule: "@every 1h"},
			[]config.Source{{Name: "a", URL: "file:///nonexistent", Schedule: "@every 2h"}}},
		{"removed", config.Source{Name: "a", URL: "file:///nonexistent", Schedule: "@every 1h"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := newMemState()
			p := NewPoller(NewFetcher(FetchOptions{}, nil), mem, mem, nil, PollerOptions{}, quietLog())
			s := NewScheduler(p, 0, quietLog())
			if err := s.Set([]config.Source{tt.first}); err != nil {
				t.Fatal(err)
			}
			if err := s.Set(tt.second); err != nil {
				t.Fatal(err)
			}
			s.Stop() // waits for the first-poll goroutine; a panic there fails the run
			if got := len(s.Next()); got != len(tt.second) {
				t.Errorf("%d scheduled sources, want %d", got, len(tt.second))
			}
		})
	}
}
