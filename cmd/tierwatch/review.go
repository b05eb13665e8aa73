package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/monitor"
	"github.com/tierwatch/tierwatch/review"
	"github.com/tierwatch/tierwatch/storage"
	"github.com/tierwatch/tierwatch/timeline"
)

// wakeEvery is how often snoozed candidates are checked; a snooze ends at
// most this late.
const wakeEvery = time.Minute

// withReview serves the review page and API (TCP with the token, and the
// unix socket when configured), flags candidates an existing timeline
// already cites, and wakes snoozed candidates.
func withReview(d *daemon) error {
	rc := d.cfg.Review
	log := d.log.With("stage", "review")
	q := review.NewQueue(d.store, nil, log)
	flagKnown(context.Background(), d.cfg, q, log)
	// The operator endpoints list the sources of the config running now
	// (a reload swaps it) with the scheduler's next ticks.
	var sources atomic.Pointer[[]config.Source]
	sources.Store(&d.cfg.Sources)
	d.reloaders = append(d.reloaders, func(cfg *config.Config) error {
		sources.Store(&cfg.Sources)
		return nil
	})
	srv, err := review.NewServer(q, review.Options{
		Token: rc.Token.Value(), SessionTTL: rc.SessionTTL, Log: log,
		Sources: sourceTable{sources: func() []config.Source { return *sources.Load() }, store: d.store, next: d.sched.Next},
		Outbox:  storeOutbox{admin: d.store, now: time.Now},
		Replay:  replayer(d.pipe.ingest),
	})
	if err != nil {
		return err
	}
	switch {
	case rc.Addr == "":
	case !rc.Token.IsSet():
		log.Warn("review page not served on TCP: review.token is not set", "addr", rc.Addr)
	default:
		ln, err := net.Listen("tcp", rc.Addr)
		if err != nil {
			return fmt.Errorf("listen review %s: %w", rc.Addr, err)
		}
		log.Info("review page serving", "addr", ln.Addr().String())
		d.workers = append(d.workers, worker{"review http", func(ctx context.Context) error { return srv.Serve(ctx, ln) }})
	}
	if sock := rc.Abs(d.cfg.File, rc.Socket); sock != "" {
		ln, err := review.ListenUnix(sock)
		if err != nil {
			return err
		}
		log.Info("review api serving", "socket", sock)
		d.workers = append(d.workers, worker{"review socket", func(ctx context.Context) error { return srv.Serve(ctx, ln) }})
	}
	d.workers = append(d.workers, worker{"snooze waker", func(ctx context.Context) error {
		return wakeSnoozed(ctx, d.store, log)
	}})
	return nil
}

// wakeSnoozed returns snoozed candidates to the queue when their time
// comes, until ctx ends.
func wakeSnoozed(ctx context.Context, store *storage.Store, log *slog.Logger) error {
	tick := time.NewTicker(wakeEvery)
	defer tick.Stop()
	for {
		n, err := store.WakeSnoozed(time.Now())
		if err != nil {
			log.Warn("wake snoozed candidates", "err", err)
		} else if n > 0 {
			log.Info("woke snoozed candidates", "count", n)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// flagKnown marks candidates whose sources review.timeline_dir already
// cites; problems are logged, never fatal (the flag is a hint).
func flagKnown(ctx context.Context, cfg *config.Config, q *review.Queue, log *slog.Logger) {
	dir := cfg.Review.Abs(cfg.File, cfg.Review.TimelineDir)
	if dir == "" {
		return
	}
	known, err := timeline.KnownURLs(dir)
	if err != nil {
		log.Warn("read timeline for known sources", "dir", dir, "err", err)
		return
	}
	n, err := q.FlagKnown(ctx, known, monitor.CanonicalURL)
	if err != nil {
		log.Warn("flag known candidates", "err", err)
		return
	}
	log.Info("flagged known candidates", "changed", n, "timeline_urls", len(known))
}
