package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tierwatch/tierwatch/bench"
)

// shippedRules returns the path of examples/rules/watch.yaml, found from
// the module root above the working directory.
func shippedRules(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "examples", "rules", "watch.yaml")
		}
		if parent := filepath.Dir(dir); parent != dir {
			dir = parent
			continue
		}
		tb.Fatal("no go.mod above the working directory")
	}
}

func TestBenchCommand(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		check func(t *testing.T, out []byte)
	}{
		{"cycles and floor as JSON", []string{"--feeds", "16,32", "--items", "10", "--runs", "1", "--json"}, func(t *testing.T, out []byte) {
			var rep struct {
				Sizes []struct {
					Feeds  int                      `json:"feeds"`
					Phases map[string]bench.Figures `json:"phases"`
				} `json:"sizes"`
				Targets []bench.Target `json:"targets"`
			}
			if err := json.Unmarshal(out, &rep); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out)
			}
			if len(rep.Sizes) != 2 || rep.Sizes[1].Feeds != 32 {
				t.Fatalf("sizes %+v, want 16 and 32", rep.Sizes)
			}
			p := rep.Sizes[0].Phases
			for ph, want := range map[string]bench.Figures{
				bench.PhaseCold:    {Items: 160, New: 160, Fetched: 16},
				bench.PhaseFloor:   {Items: 160, Fetched: 16},
				bench.PhaseWarm:    {Items: 0, New: 0, NotModified: 16},
				bench.PhaseChanged: {Items: 20, New: 2, Fetched: 2, NotModified: 14},
			} {
				got := p[ph]
				if got.Items != want.Items || got.New != want.New || got.Fetched != want.Fetched || got.NotModified != want.NotModified {
					t.Errorf("%s: items %d new %d fetched %d 304 %d; want %d %d %d %d", ph,
						got.Items, got.New, got.Fetched, got.NotModified, want.Items, want.New, want.Fetched, want.NotModified)
				}
				if got.Wall <= 0 {
					t.Errorf("%s: no wall time", ph)
				}
			}
			if len(rep.Targets) != 7 {
				t.Errorf("%d targets, want 7", len(rep.Targets))
			}
		}},
		{"soak table", []string{"--soak", "--feeds", "24", "--items", "10", "--cycles", "6", "--keep", "2"}, func(t *testing.T, out []byte) {
			if !bytes.Contains(out, []byte("second half (cycles 4-6)")) {
				t.Errorf("no spread line in:\n%s", out)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"bench", "--rules", shippedRules(t)}, tc.args...)
			if code := run(args, strings.NewReader(""), &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr.String())
			}
			tc.check(t, stdout.Bytes())
		})
	}
}

func TestBenchRejectsBadSizes(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"bench", "--feeds", "500,x"}, strings.NewReader(""), &stdout, &stderr); code != 2 {
		t.Errorf("exit %d, want 2; stderr %s", code, stderr.String())
	}
}

// benchCorpus is 500 loopback feeds of 50 items (issue 2's benchmark) and
// the real pipeline's factory.
func benchCorpus(b *testing.B) (*bench.Server, bench.Factory) {
	b.Helper()
	srv, err := bench.NewServer(bench.NewGenerator(bench.GenOptions{Items: 50}), 500, 16)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	cfg, err := benchConfig(b.TempDir(), shippedRules(b))
	if err != nil {
		b.Fatal(err)
	}
	return srv, benchFactory(cfg)
}

// benchConcurrency is the fetch concurrency of both benchmarks; see
// BENCHMARKS.md for why 16.
const benchConcurrency = 16

// BenchmarkOnceCycle500x50 is one `once` cycle of the real pipeline (fetch,
// decode, parse, normalise, match against the shipped rules, store with
// fsync, candidates) over 500 loopback feeds of 50 items, every item new.
func BenchmarkOnceCycle500x50(b *testing.B) {
	srv, factory := benchCorpus(b)
	sources := bench.Sources(srv)
	ctx := context.Background()
	b.ReportAllocs()
	items := 0
	for b.Loop() {
		b.StopTimer()
		p, err := factory(ctx, b.TempDir(), sources, benchConcurrency)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		cs, err := p.Cycle(ctx)
		b.StopTimer()
		if err != nil || cs.Failed > 0 || cs.New != 500*50 {
			b.Fatalf("cycle: %+v, %v", cs, err)
		}
		items += cs.Items
		if err := p.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkFloor500x50 is gofeed alone (its defaults) fetching and parsing
// the same bytes at the same concurrency, in the same process.
func BenchmarkFloor500x50(b *testing.B) {
	srv, _ := benchCorpus(b)
	client := &http.Client{Transport: bench.NewTransport()}
	defer client.CloseIdleConnections()
	urls := srv.URLs()
	b.ReportAllocs()
	items := 0
	for b.Loop() {
		res, err := bench.Floor(context.Background(), client, urls, bench.FloorOptions{Concurrency: benchConcurrency})
		if err != nil {
			b.Fatal(err)
		}
		items += res.Items
	}
	b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "items/s")
}
