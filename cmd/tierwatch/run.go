package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/monitor"
	"github.com/tierwatch/tierwatch/storage"
)

// shutdownGrace is how long in-flight polls may finish after a stop signal
// before they are cancelled; systemd's default stop timeout is 90s.
const shutdownGrace = 10 * time.Second

// worker is a long-running part of the daemon; it returns when ctx ends.
type worker struct {
	name string
	run  func(ctx context.Context) error
}

// daemon holds the running parts, for wiring extras (review, alerts).
type daemon struct {
	cfg     *config.Config
	store   *storage.Store
	pipe    *pipeline
	sched   *monitor.Scheduler
	log     *slog.Logger
	workers []worker
	onReady []func() // run once the schedule and workers run (service.go)
	onStop  []func() // run when shutdown begins (service.go)
	// onReloading runs when a SIGHUP reload begins (service.go sends
	// RELOADING=1); onReady runs again when it ends.
	onReloading []func()
	// reloaders apply a new, valid config to one part each (alerts, review).
	reloaders []func(cfg *config.Config) error
}

// extensions add workers to the daemon: each wires one part (alert
// dispatcher, review server, snooze waker, …) from its own file.
func extensions() []func(d *daemon) error {
	return []func(d *daemon) error{withAlerts, withService, withReview}
}

func cmdRun(e *env, args []string) error {
	fs := newFlags(e, "run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	log := e.logger(cfg.LogLevel)
	slog.SetDefault(log)

	// The root context ends on SIGINT or SIGTERM.
	root, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	store, err := openStore(cfg)
	if err != nil {
		return err
	}
	defer func() {
		if err := store.Close(); err != nil {
			log.Error("close store", "err", err)
		}
	}()
	pipe, err := buildPipeline(cfg, store, log)
	if err != nil {
		return err
	}
	d := &daemon{cfg: cfg, store: store, pipe: pipe, log: log,
		sched: monitor.NewScheduler(pipe.poller, cfg.Fetch.Jitter, log.With("stage", "schedule"))}
	for _, ext := range extensions() {
		if err := ext(d); err != nil {
			return err
		}
	}

	// Polls run under their own context so a stop signal lets them finish
	// for a grace period before they are cancelled.
	pollCtx, cancelPolls := context.WithCancel(context.Background())
	defer cancelPolls()
	if err := d.sched.Start(pollCtx, cfg.Sources); err != nil {
		return err
	}
	workCtx, cancelWork := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errc := make(chan error, len(d.workers))
	for _, w := range d.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.run(workCtx); err != nil && !errors.Is(err, context.Canceled) {
				errc <- fmt.Errorf("%s: %w", w.name, err)
			}
		}()
	}
	log.Info("tierwatch running", "version", versionString(), "sources", len(cfg.Sources), "state_dir", cfg.StateDir)
	for _, fn := range d.onReady {
		fn()
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var runErr error
wait:
	for {
		select {
		case <-root.Done():
			log.Info("stopping", "cause", context.Cause(root))
			break wait
		case runErr = <-errc:
			log.Error("worker failed, stopping", "err", runErr)
			break wait
		case <-hup:
			d.reload(e.configPath)
		}
	}
	for _, fn := range d.onStop {
		fn()
	}

	// Shutdown order: stop the schedule and let polls finish (or cancel
	// them after the grace period), stop the workers, then close the store.
	stopped := make(chan struct{})
	go func() { d.sched.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(shutdownGrace):
		log.Warn("cancelling polls still running", "grace", shutdownGrace)
		cancelPolls()
		<-stopped
	}
	cancelWork()
	wg.Wait()
	log.Info("stopped")
	return runErr
}

// reload loads the config again on SIGHUP. A config with problems is
// rejected whole and the running one stays; a valid one replaces the
// sources (added, removed, rescheduled), rules, tiers, grouping and alert
// destinations at once, keeping all stored state. Settings bound at start
// (state_dir, listeners, fetch tuning) need a restart, and the log says so.
func (d *daemon) reload(path string) {
	for _, fn := range d.onReloading {
		fn()
	}
	defer func() {
		for _, fn := range d.onReady {
			fn()
		}
	}()
	cfg, err := config.Load(path)
	if err != nil {
		d.log.Error("reload rejected, keeping the running config", "file", path, "problems", err.Error())
		return
	}
	for _, key := range restartOnly(d.cfg, cfg) {
		d.log.Warn("reload cannot change this setting; restart to apply it", "key", key)
	}
	if err := d.pipe.ingest.Reload(cfg); err != nil {
		d.log.Error("reload rejected, keeping the running config", "file", path, "err", err)
		return
	}
	if err := d.sched.Set(cfg.Sources); err != nil {
		d.log.Error("reload: schedule sources", "err", err)
	}
	for _, fn := range d.reloaders {
		if err := fn(cfg); err != nil {
			d.log.Error("reload: apply config", "err", err)
		}
	}
	d.cfg = cfg
	d.log.Info("config reloaded", "file", path, "sources", len(cfg.Sources), "rules", len(cfg.Rules))
}

// restartOnly lists the keys that differ between two configs but are
// bound when the daemon starts.
func restartOnly(old, cfg *config.Config) []string {
	var keys []string
	if old.StateDir != cfg.StateDir {
		keys = append(keys, "state_dir")
	}
	if old.Fetch != cfg.Fetch {
		keys = append(keys, "fetch")
	}
	if old.Service.MetricsAddr != cfg.Service.MetricsAddr {
		keys = append(keys, "service.metrics_addr")
	}
	if old.LogLevel != cfg.LogLevel {
		keys = append(keys, "log_level")
	}
	return keys
}
