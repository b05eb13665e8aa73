package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
)

// Pipeline is the system under test: tierwatch's polling pipeline over one
// store, polling a fixed list of sources.
type Pipeline interface {
	// Cycle polls every source once (a `tierwatch once` without alert
	// delivery) and returns what it did.
	Cycle(ctx context.Context) (CycleStats, error)
	// Close releases the pipeline's store.
	Close() error
}

// CycleStats is what one Cycle did.
type CycleStats struct {
	Items  int // items the sources yielded (0 for a 304)
	New    int // items stored as new
	Failed int // sources whose poll failed
}

// Factory builds a Pipeline polling sources over a new store in dir. The
// pipeline must fetch with concurrency and no politeness gap or jitter.
type Factory func(ctx context.Context, dir string, sources []config.Source, concurrency int) (Pipeline, error)

// Options configure Run. Zero values take the defaults.
type Options struct {
	Feeds       []int   // sizes, default 500, 2000, 10000
	Items       int     // items per feed, default 50
	Changed     float64 // share of feeds changed before the third cycle, default 0.1
	Concurrency int     // fetch concurrency of pipeline and floor, default 16
	Hosts       int     // loopback addresses to spread feeds over, default 16
	Runs        int     // repetitions of every size; figures are medians, default 3
	MatchShare  float64 // share of items that match the rules, default 0.02
	Seed        uint64  // generator seed, default 1
	// TempDir holds the stores (default os.TempDir()); each is removed
	// after its run.
	TempDir string `json:"-"`
	// Progress, when set, receives one line per measured phase.
	Progress io.Writer `json:"-"`
	// Profile, when set, is called around the cold cycle of the first size
	// of the first run: start begins CPU or allocation profiling and the
	// returned function ends it.
	Profile func() (stop func() error, err error) `json:"-"`
}

func (o Options) withDefaults() Options {
	if len(o.Feeds) == 0 {
		o.Feeds = []int{500, 2000, 10000}
	}
	if o.Items <= 0 {
		o.Items = 50
	}
	if o.Changed <= 0 {
		o.Changed = 0.1
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.Hosts <= 0 {
		o.Hosts = 16
	}
	if o.Runs <= 0 {
		o.Runs = 3
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	return o
}

// Phase names, in the order Run measures them.
const (
	PhaseCold        = "cold"
	PhaseFloor       = "floor"
	PhaseFloorNoImgs = "floor-noimg"
	PhaseWarm        = "warm"
	PhaseChanged     = "changed"
)

// Sources returns one feed source per feed of srv, named bench-00000 ….
func Sources(srv *Server) []config.Source {
	out := make([]config.Source, srv.Feeds())
	for i := range out {
		out[i] = config.Source{Name: fmt.Sprintf("bench-%05d", i), Type: model.SourceFeed,
			URL: srv.URL(i), Schedule: "@every 30m"}
	}
	return out
}

// Run measures, at every size of opts.Feeds and opts.Runs times, a cold
// cycle (a new store, every item new), the floor (Floor over the same
// bytes, with gofeed's defaults and with its image scan off), a warm cycle
// (every feed answers 304) and a cycle after opts.Changed of the feeds
// gained new items. Each run of each size uses a new server and store. It
// fails when a cycle's counts are not what the generated feeds imply, so a
// fast but broken pipeline cannot pass.
func Run(ctx context.Context, opts Options, newPipeline Factory) (*Report, error) {
	opts = opts.withDefaults()
	rep := &Report{Machine: ThisMachine(), Options: opts}
	gen := NewGenerator(GenOptions{Items: opts.Items, MatchShare: opts.MatchShare, Seed: opts.Seed})
	for si, n := range opts.Feeds {
		var runs []map[string]Figures
		for r := range opts.Runs {
			var prof func() (func() error, error)
			if si == 0 && r == 0 {
				prof = opts.Profile
			}
			figs, err := runSize(ctx, opts, gen, n, uint64(r), newPipeline, prof)
			if err != nil {
				return rep, fmt.Errorf("bench %d feeds, run %d: %w", n, r+1, err)
			}
			runs = append(runs, figs)
		}
		rep.Sizes = append(rep.Sizes, newSizeResult(n, runs))
	}
	return rep, nil
}

func runSize(ctx context.Context, opts Options, gen *Generator, n int, run uint64,
	newPipeline Factory, prof func() (func() error, error)) (map[string]Figures, error) {
	r, err := setup(ctx, gen, n, opts.Hosts, opts.TempDir, "tierwatch-bench-", opts.Concurrency, newPipeline)
	if err != nil {
		return nil, err
	}
	defer r.done()
	srv, p := r.srv, r.p

	figs := map[string]Figures{}
	progress := func(phase string, f Figures) {
		figs[phase] = f
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "%6d feeds run %d %-12s wall %-9s cpu %-9s items %d new %d\n",
				n, run+1, phase, f.Wall.Round(time.Millisecond), f.CPU.Round(time.Millisecond), f.Items, f.New)
		}
	}
	cycle := func(phase string, wantNew int, stop func() (func() error, error)) error {
		ok0, nm0, _ := srv.Counts()
		var end func() error
		if stop != nil {
			var err error
			if end, err = stop(); err != nil {
				return fmt.Errorf("start profile: %w", err)
			}
		}
		f, err := Measure(func(f *Figures) error {
			cs, err := p.Cycle(ctx)
			f.Feeds, f.Items, f.New = n, cs.Items, cs.New
			if err == nil && cs.Failed > 0 {
				err = fmt.Errorf("%d sources failed", cs.Failed)
			}
			return err
		})
		if end != nil {
			if perr := end(); perr != nil && err == nil {
				err = fmt.Errorf("write profile: %w", perr)
			}
		}
		if err != nil {
			return fmt.Errorf("%s cycle: %w", phase, err)
		}
		ok1, nm1, _ := srv.Counts()
		f.Fetched, f.NotModified = int(ok1-ok0), int(nm1-nm0)
		if f.New != wantNew {
			return fmt.Errorf("%s cycle stored %d new items, want %d", phase, f.New, wantNew)
		}
		progress(phase, f)
		return nil
	}

	// An unmeasured pass over the feeds first, so the cold cycle does not
	// pay alone for what any first pass in the process pays (server and
	// generator buffers, the heap growing to its working size) and the
	// floor after it does not get those for free.
	client := &http.Client{Transport: NewTransport()}
	defer client.CloseIdleConnections()
	if _, err := Floor(ctx, client, srv.URLs(), FloorOptions{Concurrency: opts.Concurrency, NoImageScan: true}); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	if err := cycle(PhaseCold, n*opts.Items, prof); err != nil {
		return nil, err
	}
	for _, ph := range []struct {
		name    string
		noImage bool
	}{{PhaseFloor, false}, {PhaseFloorNoImgs, true}} {
		var fr FloorResult
		f, err := Measure(func(f *Figures) error {
			var err error
			fr, err = Floor(ctx, client, srv.URLs(), FloorOptions{Concurrency: opts.Concurrency, NoImageScan: ph.noImage})
			f.Feeds, f.Items, f.Fetched = fr.Feeds, fr.Items, fr.Feeds
			return err
		})
		if err != nil {
			return nil, err
		}
		if fr.Items != n*opts.Items {
			return nil, fmt.Errorf("floor parsed %d items, want %d", fr.Items, n*opts.Items)
		}
		progress(ph.name, f)
	}
	if err := cycle(PhaseWarm, 0, nil); err != nil {
		return nil, err
	}
	if figs[PhaseWarm].NotModified != n {
		return nil, fmt.Errorf("warm cycle: %d of %d feeds answered 304", figs[PhaseWarm].NotModified, n)
	}
	changed := srv.Change(opts.Changed, opts.Seed+run)
	if err := cycle(PhaseChanged, len(changed)*gen.Options().NewPerChange, nil); err != nil {
		return nil, err
	}
	return figs, nil
}

// SizeResult holds the median figures of every phase at one size.
type SizeResult struct {
	Feeds  int                `json:"feeds"`
	Runs   int                `json:"runs"`
	Phases map[string]Figures `json:"phases"`
	// All keeps every run's figures, phase by phase, for spread.
	All map[string][]Figures `json:"all_runs"`
}

func newSizeResult(n int, runs []map[string]Figures) SizeResult {
	sr := SizeResult{Feeds: n, Runs: len(runs), Phases: map[string]Figures{}, All: map[string][]Figures{}}
	for _, r := range runs {
		for ph, f := range r {
			sr.All[ph] = append(sr.All[ph], f)
		}
	}
	for ph, fs := range sr.All {
		sr.Phases[ph] = medianFigures(fs)
	}
	return sr
}

// medianFigures takes the median of each field on its own.
func medianFigures(fs []Figures) Figures {
	m := fs[0]
	m.Wall = median(fs, func(f Figures) time.Duration { return f.Wall })
	m.CPU = median(fs, func(f Figures) time.Duration { return f.CPU })
	m.PeakRSS = median(fs, func(f Figures) int64 { return f.PeakRSS })
	m.PeakAnon = median(fs, func(f Figures) int64 { return f.PeakAnon })
	m.Alloc = median(fs, func(f Figures) uint64 { return f.Alloc })
	m.Mallocs = median(fs, func(f Figures) uint64 { return f.Mallocs })
	return m
}

func median[T int64 | uint64 | time.Duration](fs []Figures, get func(Figures) T) T {
	vs := make([]T, len(fs))
	for i, f := range fs {
		vs[i] = get(f)
	}
	slices.Sort(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2]
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
}

// errNoSizes is returned by report helpers given an empty report.
var errNoSizes = errors.New("report has no sizes")

// rig is one measured set-up: a loopback server of generated feeds and a
// pipeline over a fresh store in the temporary folder dir.
type rig struct {
	srv *Server
	p   Pipeline
	dir string
}

// setup starts a rig; close it with done, which closes the pipeline,
// removes the folder and stops the server, in that order.
func setup(ctx context.Context, gen *Generator, n, hosts int, tempDir, prefix string, concurrency int,
	newPipeline Factory) (*rig, error) {
	srv, err := NewServer(gen, n, hosts)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(tempDir, prefix)
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("make store dir: %w", err)
	}
	p, err := newPipeline(ctx, dir, Sources(srv), concurrency)
	if err != nil {
		os.RemoveAll(dir)
		srv.Close()
		return nil, fmt.Errorf("build pipeline: %w", err)
	}
	return &rig{srv: srv, p: p, dir: dir}, nil
}

func (r *rig) done() {
	// A close error of a throw-away benchmark store changes no figure.
	_ = r.p.Close()
	os.RemoveAll(r.dir)
	r.srv.Close()
}
