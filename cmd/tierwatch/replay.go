package main

import (
	"context"
	"fmt"
	"os/signal"
	"syscall"
	"time"

	"github.com/tierwatch/tierwatch/ingest"
	"github.com/tierwatch/tierwatch/review"
)

// cmdReplay runs the current rules over stored items, so a new or changed
// rule finds what already arrived, without duplicating candidates. While
// the daemon runs, the replay runs inside it (with its rules, which a
// SIGHUP reload updates).
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
	store, client, err := openLocalOrDaemon(cfg)
	if err != nil {
		return err
	}
	var r review.Replayer = client
	if store != nil {
		defer store.Close()
		p, err := buildPipeline(cfg, store, log)
		if err != nil {
			return err
		}
		r = replayer(p.ingest)
	}
	st, err := r.Replay(ctx, from)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "replayed %d items: %d matched, %d candidates created, %d joined existing ones\n",
		st.Items, st.Matched, st.Created, st.Joined)
	return nil
}

// replayer adapts the ingest pipeline's Replay to review.Replayer: the
// CLI's when it holds the store, the daemon's behind its API.
func replayer(p *ingest.Pipeline) review.Replayer {
	return review.ReplayFunc(func(ctx context.Context, since time.Time) (review.ReplayStats, error) {
		st, err := p.Replay(ctx, since)
		return review.ReplayStats{Items: st.Items, Matched: st.New, Created: st.Created, Joined: st.Joined}, err
	})
}
