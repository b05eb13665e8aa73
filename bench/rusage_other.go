//go:build !unix

package bench

import "time"

// cpuTime is unavailable off unix; CPU figures read 0.
func cpuTime() time.Duration { return 0 }

func maxRSS() int64 { return 0 }
