package main

import (
	"context"
	"fmt"
	"os/signal"
	"syscall"
	"time"
)

// cmdReplay runs the current rules over stored items, so a new or changed
// rule finds what already arrived, without duplicating candidates.
func cmdReplay(e *env, args []string) error {
	fs := newFlags(e, "replay")
	since := fs.String("since", "", "only items first seen on or after this date (YYYY-MM-DD)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var from time.Time
	if *since != "" {
		t, err := time.Parse(time.DateOnly, *since)
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("--since: want YYYY-MM-DD: %v", err)}
		}
		from = t
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
	st, err := p.ingest.Replay(ctx, from)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "replayed %d items: %d matched, %d candidates created, %d joined existing ones\n",
		st.Items, st.New, st.Created, st.Joined)
	return nil
}
