//go:build !linux

package bench

// maxrssUnit: BSDs and macOS differ (bytes on macOS, KiB on the BSDs);
// the figure is indicative only off Linux.
const maxrssUnit = 1

func resetPeakRSS() string { return "process" }

func peakRSS() int64 { return maxRSS() }

func anonRSS() int64 { return 0 }
