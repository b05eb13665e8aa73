package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tierwatch/tierwatch/bench"
	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/monitor"
	"github.com/tierwatch/tierwatch/storage"
)

// cmdBench measures the real pipeline (buildPipeline over a temporary
// store, fsync on as in the daemon) on generated loopback feeds against
// the floor of fetching and parsing the same bytes. It needs no config
// file: only the rules pack, by default the shipped one.
func cmdBench(e *env, args []string) error {
	fs := newFlags(e, "bench")
	feeds := fs.String("feeds", "500,2000,10000", "comma-separated numbers of feeds")
	items := fs.Int("items", 50, "items per feed")
	runs := fs.Int("runs", 3, "runs of every size; the table shows medians")
	conc := fs.Int("concurrency", 16, "fetch concurrency (fetch.concurrency) of pipeline and floor")
	changed := fs.Float64("changed", 0.1, "share of feeds changed before the third cycle")
	rulesPath := fs.String("rules", "examples/rules/watch.yaml", "rules pack to match against")
	asJSON := fs.Bool("json", false, "print machine-readable figures instead of the table")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the first cold cycle to `file`")
	memProfile := fs.String("memprofile", "", "write an allocation profile after the first cold cycle to `file`")
	soak := fs.Bool("soak", false, "run the soak instead: many cycles over one store, sampling heap and goroutines")
	cycles := fs.Int("cycles", 30, "cycles of the soak")
	keep := fs.Int("keep", 5, "soak retention: items older than this many cycles are pruned")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sizes, err := parseSizes(*feeds)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("bench: --feeds: %w", err)}
	}
	tmp, err := os.MkdirTemp("", "tierwatch-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	cfg, err := benchConfig(tmp, *rulesPath)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	factory := benchFactory(cfg)

	if *soak {
		rep, err := bench.Soak(ctx, bench.SoakOptions{Feeds: sizes[len(sizes)-1], Items: *items, Cycles: *cycles,
			Changed: *changed, Concurrency: *conc, Keep: *keep, TempDir: tmp, Progress: e.stderr}, factory)
		if err != nil {
			return err
		}
		if *asJSON {
			return rep.WriteJSON(e.stdout)
		}
		return rep.WriteTable(e.stdout)
	}
	opts := bench.Options{Feeds: sizes, Items: *items, Runs: *runs, Concurrency: *conc, Changed: *changed,
		TempDir: tmp, Progress: e.stderr}
	if *cpuProfile != "" || *memProfile != "" {
		opts.Profile = func() (func() error, error) { return startProfiles(*cpuProfile, *memProfile) }
	}
	rep, err := bench.Run(ctx, opts, factory)
	if err != nil {
		return err
	}
	if *asJSON {
		return rep.WriteJSON(e.stdout)
	}
	return rep.WriteTable(e.stdout)
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// benchConfig loads a config that includes the rules pack and fetches as
// fast as loopback allows: no politeness gap (every feed shares a few
// loopback hosts) and no jitter.
func benchConfig(dir, rulesPath string) (*config.Config, error) {
	abs, err := filepath.Abs(rulesPath)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "bench.yaml")
	yaml := fmt.Sprintf("state_dir: %s\ninclude: [%s]\nfetch: {host_gap: 0s, jitter: 0s}\n",
		strconv.Quote(filepath.Join(dir, "unused")), strconv.Quote(abs))
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		return nil, err
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, &exitError{code: 2, err: fmt.Errorf("bench config has problems:\n%v", err)}
	}
	return cfg, nil
}

// benchFactory builds the real pipeline, as `tierwatch once` does, over a
// new store in dir. Logs go through a JSON handler to nowhere, so their
// formatting is paid as in the daemon.
func benchFactory(base *config.Config) bench.Factory {
	return func(ctx context.Context, dir string, sources []config.Source, concurrency int) (bench.Pipeline, error) {
		cfg := *base
		cfg.StateDir, cfg.Sources = dir, sources
		cfg.Fetch.Concurrency = concurrency
		store, err := storage.Open(dir, storage.Options{})
		if err != nil {
			return nil, err
		}
		log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
		p, err := buildPipeline(&cfg, store, log)
		if err != nil {
			_ = store.Close() // the build error is the one to report
			return nil, err
		}
		return &benchPipeline{p: p, store: store, sources: sources}, nil
	}
}

// benchPipeline adapts the pipeline to bench.Pipeline and bench.Retainer.
type benchPipeline struct {
	p       *pipeline
	store   *storage.Store
	sources []config.Source
}

func (b *benchPipeline) Cycle(ctx context.Context) (bench.CycleStats, error) {
	results, err := monitor.RunOnce(ctx, b.p.poller, b.sources)
	var cs bench.CycleStats
	for _, r := range results {
		cs.Items += r.Items
		cs.New += r.New
		if r.Err != nil {
			cs.Failed++
		}
	}
	return cs, err
}

func (b *benchPipeline) Prune(_ context.Context, before time.Time) error {
	// Prune deletes what was first seen more than Items before now, so
	// "now" is before plus that retention.
	const r = time.Hour
	_, err := b.store.Prune(before.Add(r), storage.Retention{Items: r})
	return err
}

func (b *benchPipeline) Close() error { return b.store.Close() }

// startProfiles starts CPU profiling into cpuPath and returns a function
// that stops it and writes the allocation profile to memPath (either may
// be empty).
func startProfiles(cpuPath, memPath string) (func() error, error) {
	var cpu *os.File
	if cpuPath != "" {
		f, err := os.Create(cpuPath)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, err
		}
		cpu = f
	}
	return func() error {
		if cpu != nil {
			pprof.StopCPUProfile()
			if err := cpu.Close(); err != nil {
				return err
			}
		}
		if memPath == "" {
			return nil
		}
		f, err := os.Create(memPath)
		if err != nil {
			return err
		}
		runtime.GC()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}, nil
}
