package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// Machine describes where the figures were taken.
type Machine struct {
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	NumCPU     int    `json:"num_cpu"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	GoVersion  string `json:"go_version"`
	CPUModel   string `json:"cpu_model,omitempty"`
}

// ThisMachine describes the running machine; CPUModel comes from
// /proc/cpuinfo where there is one.
func ThisMachine() Machine {
	m := Machine{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, NumCPU: runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version()}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

// Report is the outcome of Run.
type Report struct {
	Machine Machine      `json:"machine"`
	Options Options      `json:"options"`
	Sizes   []SizeResult `json:"sizes"`
}

// Target is one goal of issues 2 and 8 checked against the medians.
type Target struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Limit float64 `json:"limit"`
	Unit  string  `json:"unit"` // "x" for a ratio, "MB"
	Met   bool    `json:"met"`
}

// Targets checks the report's medians against the goals: at the smallest
// size, the cold cycle within 1.5× (issue 8) and 2× (issue 2) of the floor
// by wall time, and the warm cycle under 10% of the cold one; at the
// largest size, CPU per feed of the cold cycle within 1.2× of the smallest
// size's and peak RSS under 150 MB, judged both on the whole RSS and on
// its anonymous part (without the store's mmap). Targets of sizes not
// measured are left out.
func (r *Report) Targets() []Target {
	if len(r.Sizes) == 0 {
		return nil
	}
	small, large := r.Sizes[0], r.Sizes[len(r.Sizes)-1]
	cold, floor, warm := small.Phases[PhaseCold], small.Phases[PhaseFloor], small.Phases[PhaseWarm]
	ratio := func(a, b time.Duration) float64 {
		if b <= 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	n := fmt.Sprint(small.Feeds)
	ts := []Target{
		{Name: "cold/floor wall at " + n + " feeds (issue 8)", Value: ratio(cold.Wall, floor.Wall), Limit: 1.5, Unit: "x"},
		{Name: "cold/floor wall at " + n + " feeds (issue 2)", Value: ratio(cold.Wall, floor.Wall), Limit: 2, Unit: "x"},
		{Name: "warm/cold wall at " + n + " feeds", Value: ratio(warm.Wall, cold.Wall), Limit: 0.1, Unit: "x"},
	}
	if len(r.Sizes) > 1 {
		lc := large.Phases[PhaseCold]
		ts = append(ts,
			Target{Name: fmt.Sprintf("cold CPU per feed, %d vs %d feeds", large.Feeds, small.Feeds),
				Value: ratio(lc.CPUPerFeed(), cold.CPUPerFeed()), Limit: 1.2, Unit: "x"},
			Target{Name: fmt.Sprintf("cold wall per feed, %d vs %d feeds", large.Feeds, small.Feeds),
				Value: ratio(lc.WallPerFeed(), cold.WallPerFeed()), Limit: 1.2, Unit: "x"},
			Target{Name: fmt.Sprintf("cold peak RSS at %d feeds", large.Feeds),
				Value: float64(lc.PeakRSS) / 1e6, Limit: 150, Unit: "MB"})
		// Anonymous RSS is sampled from /proc (Linux only); where it reads
		// 0 the target would pass without a measurement.
		if lc.PeakAnon > 0 {
			ts = append(ts, Target{Name: fmt.Sprintf("cold peak anon RSS at %d feeds", large.Feeds),
				Value: float64(lc.PeakAnon) / 1e6, Limit: 150, Unit: "MB"})
		}
	}
	for i := range ts {
		ts[i].Met = ts[i].Value < ts[i].Limit
	}
	return ts
}

// WriteTable writes the medians as a table, then the targets.
func (r *Report) WriteTable(w io.Writer) error {
	if len(r.Sizes) == 0 {
		return errNoSizes
	}
	fmt.Fprintf(w, "tierwatch bench: %s/%s, %d CPUs (GOMAXPROCS %d), %s, %s\n",
		r.Machine.GOOS, r.Machine.GOARCH, r.Machine.NumCPU, r.Machine.GOMAXPROCS, r.Machine.GoVersion, r.Machine.CPUModel)
	fmt.Fprintf(w, "%d items per feed, concurrency %d, %d loopback hosts, %.0f%% changed, medians of %d runs\n\n",
		r.Options.Items, r.Options.Concurrency, r.Options.Hosts, r.Options.Changed*100, r.Options.Runs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "feeds\tphase\twall\tCPU\titems/s\talloc/item\tpeak RSS\tpeak anon\twall/floor\tCPU/floor\t")
	for _, s := range r.Sizes {
		floor := s.Phases[PhaseFloor]
		for _, ph := range []string{PhaseFloor, PhaseFloorNoImgs, PhaseCold, PhaseWarm, PhaseChanged} {
			f, ok := s.Phases[ph]
			if !ok {
				continue
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%.0f\t%.1f KB\t%.1f MB\t%.1f MB\t%.2f\t%.2f\t\n", s.Feeds, ph,
				f.Wall.Round(time.Millisecond), f.CPU.Round(time.Millisecond), f.ItemsPerSec(),
				f.AllocPerItem()/1024, float64(f.PeakRSS)/1e6, float64(f.PeakAnon)/1e6,
				float64(f.Wall)/float64(max(floor.Wall, 1)), float64(f.CPU)/float64(max(floor.CPU, 1)))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\ntargets:")
	for _, t := range r.Targets() {
		mark := "met"
		if !t.Met {
			mark = "NOT met"
		}
		fmt.Fprintf(w, "  %-45s %8.2f %s (limit %g) %s\n", t.Name, t.Value, t.Unit, t.Limit, mark)
	}
	return nil
}

// WriteJSON writes the report with its targets as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		*Report
		Targets []Target `json:"targets"`
	}{r, r.Targets()})
}
