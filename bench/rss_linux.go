package bench

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
)

// maxrssUnit: Linux reports ru_maxrss in KiB.
const maxrssUnit = 1024

// resetPeakRSS resets the kernel's peak RSS of this process (writing 5 to
// /proc/self/clear_refs, Linux 4.0+; see proc(5)) and returns the scope
// peakRSS will then report.
func resetPeakRSS() string {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return "process" // older kernel or restricted /proc: lifetime peak
	}
	return "phase"
}

// peakRSS returns VmHWM from /proc/self/status in bytes, falling back to
// getrusage's lifetime peak.
func peakRSS() int64 {
	if kb, ok := statusKB("VmHWM:"); ok {
		return kb * 1024
	}
	return maxRSS()
}

// anonRSS returns RssAnon (resident anonymous memory: heap, stacks; not
// the store's file-backed mmap) in bytes, or 0 where unknown.
func anonRSS() int64 {
	kb, _ := statusKB("RssAnon:")
	return kb * 1024
}

// statusKB reads one "Name:   123 kB" line of /proc/self/status.
func statusKB(field string) (int64, bool) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte(field))
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte("kB")))), 10, 64)
		return kb, err == nil
	}
	return 0, false
}
