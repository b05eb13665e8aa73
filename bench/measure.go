package bench

import (
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

// Figures are the costs of one measured phase.
type Figures struct {
	Wall time.Duration `json:"wall_ns"`
	CPU  time.Duration `json:"cpu_ns"` // user + system time of the whole process
	// PeakRSS is the phase's peak resident set in bytes. On Linux the peak
	// is reset before the phase (/proc/self/clear_refs) and PeakRSSScope is
	// "phase"; elsewhere it is the process's lifetime peak ("process").
	PeakRSS      int64  `json:"peak_rss_bytes"`
	PeakRSSScope string `json:"peak_rss_scope"`
	// PeakAnon is the highest anonymous RSS sampled every 10 ms (Linux;
	// 0 elsewhere): PeakRSS without the store's file-backed mmap pages,
	// which bbolt maps and the kernel may drop at will.
	PeakAnon    int64  `json:"peak_anon_rss_bytes"`
	Alloc       uint64 `json:"alloc_bytes"` // heap bytes allocated during the phase
	Mallocs     uint64 `json:"mallocs"`
	Feeds       int    `json:"feeds"`
	Items       int    `json:"items"` // items the phase handled (parsed)
	New         int    `json:"new"`   // items stored as new (pipeline phases)
	Fetched     int    `json:"fetched"`
	NotModified int    `json:"not_modified"`
}

// ItemsPerSec is Items per second of wall time (0 when no time passed).
func (f Figures) ItemsPerSec() float64 {
	if f.Wall <= 0 {
		return 0
	}
	return float64(f.Items) / f.Wall.Seconds()
}

// AllocPerItem is heap bytes allocated per item (0 without items).
func (f Figures) AllocPerItem() float64 {
	if f.Items == 0 {
		return 0
	}
	return float64(f.Alloc) / float64(f.Items)
}

// CPUPerFeed is process CPU time per feed polled (0 without feeds).
func (f Figures) CPUPerFeed() time.Duration {
	if f.Feeds == 0 {
		return 0
	}
	return f.CPU / time.Duration(f.Feeds)
}

// WallPerFeed is wall time per feed polled (0 without feeds).
func (f Figures) WallPerFeed() time.Duration {
	if f.Feeds == 0 {
		return 0
	}
	return f.Wall / time.Duration(f.Feeds)
}

// Measure runs fn and returns its costs with the counts fn filled in. It
// collects garbage and returns freed memory to the OS first, so phases
// start from the same heap. Measure phases one at a time: CPU time and
// RSS are the whole process's.
func Measure(fn func(f *Figures) error) (Figures, error) {
	var f Figures
	runtime.GC()
	debug.FreeOSMemory()
	f.PeakRSSScope = resetPeakRSS()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	stop, peakAnon := sampleAnon(10 * time.Millisecond)
	cpu0 := cpuTime()
	start := time.Now()
	err := fn(&f)
	f.Wall = time.Since(start)
	f.CPU = cpuTime() - cpu0
	stop()
	f.PeakAnon = max(*peakAnon, anonRSS())
	runtime.ReadMemStats(&ms1)
	f.Alloc = ms1.TotalAlloc - ms0.TotalAlloc
	f.Mallocs = ms1.Mallocs - ms0.Mallocs
	f.PeakRSS = peakRSS()
	return f, err
}

// sampleAnon samples anonRSS every d until stop is called; stop waits for
// the sampler, after which *peak holds the highest sample.
func sampleAnon(d time.Duration) (stop func(), peak *int64) {
	peak = new(int64)
	*peak = anonRSS()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				*peak = max(*peak, anonRSS())
			}
		}
	})
	return func() { close(done); wg.Wait() }, peak
}
