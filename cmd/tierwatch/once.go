package main

import (
	"context"
	"fmt"
	"os/signal"
	"syscall"
	"time"

	"github.com/tierwatch/tierwatch/monitor"
)

// cmdOnce polls every source once. It exits 0 when the cycle ran, even if
// some sources failed, and names the failures in its summary.
func cmdOnce(e *env, args []string) error {
	fs := newFlags(e, "once")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	log := e.logger(cfg.LogLevel)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	store, err := openStore(cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	p, err := buildPipeline(cfg, store, log)
	if err != nil {
		return err
	}
	start := time.Now()
	results, err := monitor.RunOnce(ctx, p.poller, cfg.Sources)
	if err != nil {
		return err
	}
	if err := deliverOnce(ctx, cfg, store, log); err != nil {
		return err
	}
	printSummary(e, results, time.Since(start))
	return nil
}

func printSummary(e *env, results []monitor.Result, took time.Duration) {
	var items, fresh, failed int
	for _, r := range results {
		items += r.Items
		fresh += r.New
		if r.Err != nil {
			failed++
		}
	}
	fmt.Fprintf(e.stdout, "polled %d sources in %s: %d items, %d new, %d failed\n",
		len(results), took.Round(time.Millisecond), items, fresh, failed)
	for _, r := range results {
		if r.Err != nil {
			class, _ := monitor.ClassOf(r.Err)
			fmt.Fprintf(e.stdout, "  FAILED %s (%s): %v\n", r.Source, class, r.Err)
		}
	}
}
