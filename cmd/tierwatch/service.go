package main

// The service extension of `tierwatch run`: the metrics/ops listener
// (/metrics, /healthz, /readyz and, on loopback only, POST /backup), the
// systemd notifications (READY=1, WATCHDOG=1 while the store answers,
// RELOADING=1 then READY=1 around a SIGHUP reload, STOPPING=1) and the
// daily retention prune.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/tierwatch/tierwatch/ingest"
	"github.com/tierwatch/tierwatch/metrics"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/monitor"
	"github.com/tierwatch/tierwatch/sdnotify"
	"github.com/tierwatch/tierwatch/storage"
)

// pruneEvery is how often retention runs; retention is set in days, so
// daily is precise enough and keeps the prune's write load negligible.
const pruneEvery = 24 * time.Hour

// withService wires metrics, health, systemd notifications and retention
// into the daemon.
func withService(d *daemon) error {
	log := d.log.With("stage", "service")
	notifier, err := sdnotify.FromEnv(os.Getenv)
	if err != nil {
		// A broken NOTIFY_SOCKET must not stop the daemon; systemd will
		// time the start out and say so.
		log.Error("systemd notifications off", "err", err)
		notifier = &sdnotify.Notifier{}
	}
	m := metrics.New(metrics.Options{
		Candidates: func() (map[string]int, error) { return candidateCounts(d.store) },
		Outbox:     d.store.OutboxStats,
	}, log)
	states, err := d.store.SourceStates()
	if err != nil {
		return err
	}
	for _, st := range states {
		m.SetLastSuccess(st.Name, st.LastSuccess)
	}
	chainResults(d.sched, func(r monitor.Result) { m.ObserveFetch(r.Source, resultLabel(r.Err), r.Duration, time.Now()) })
	chainStats(d.pipe.ingest, func(s ingest.Stats) { m.ObserveIngest(s.Source, s.Items, s.New, s.Matched) })

	probe := &storeProbe{store: d.store, timeout: d.cfg.Service.Watchdog.CheckTimeout}
	var started atomic.Bool
	d.onReady = append(d.onReady, func() {
		started.Store(true)
		status := fmt.Sprintf("polling %d sources", len(d.cfg.Sources))
		if err := notifier.Ready(status); err != nil {
			log.Warn("notify systemd ready", "err", err)
		}
	})
	d.onReloading = append(d.onReloading, func() {
		if err := notifier.Reloading("reloading config"); err != nil {
			log.Warn("notify systemd reloading", "err", err)
		}
	})
	d.onStop = append(d.onStop, func() {
		if err := notifier.Stopping("stopping"); err != nil {
			log.Warn("notify systemd stopping", "err", err)
		}
	})

	if addr := d.cfg.Service.MetricsAddr; addr != "" {
		mux := m.Mux(
			metrics.Check{Name: "store", Fn: probe.Check},
			metrics.Check{Name: "scheduler", Fn: func(context.Context) error {
				if !started.Load() {
					return errors.New("not started")
				}
				return nil
			}},
		)
		// A taken port costs metrics and online backups, not polling and
		// alerts: log it for the operator and run on.
		if srv, err := newOpsServer(d, mux, log); err != nil {
			log.Error("metrics and ops endpoints off", "err", err)
		} else {
			d.workers = append(d.workers, worker{name: "metrics", run: srv.Run})
		}
	}
	if iv, ok := sdnotify.WatchdogInterval(os.Getenv, os.Getpid()); ok && notifier.IsEnabled() && !d.cfg.Service.Watchdog.Disabled {
		wd := &watchdog{every: iv / 2, probe: probe, notifier: notifier, log: log}
		d.workers = append(d.workers, worker{name: "watchdog", run: wd.Run})
	}
	if r := d.cfg.Retention; r.Items > 0 || r.Seen > 0 || r.Decisions > 0 {
		ret := storage.Retention{Items: r.Items, Seen: r.Seen, Decisions: r.Decisions}
		d.workers = append(d.workers, worker{name: "retention", run: func(ctx context.Context) error {
			return runRetention(ctx, d.store, ret, log)
		}})
	}
	return nil
}

// chainResults adds fn after whatever OnResult the scheduler already has,
// so several extensions can watch poll results.
func chainResults(s *monitor.Scheduler, fn func(monitor.Result)) {
	prev := s.OnResult
	s.OnResult = func(r monitor.Result) {
		if prev != nil {
			prev(r)
		}
		fn(r)
	}
}

// chainStats adds fn after the ingest pipeline's existing OnStats.
func chainStats(p *ingest.Pipeline, fn func(ingest.Stats)) {
	prev := p.OnStats
	p.OnStats = func(s ingest.Stats) {
		if prev != nil {
			prev(s)
		}
		fn(s)
	}
}

// resultLabel is the result label of a poll: ok or the error's class.
func resultLabel(err error) string {
	if err == nil {
		return metrics.ResultOK
	}
	class, _ := monitor.ClassOf(err)
	return string(class)
}

// candidateStatuses are the statuses counted for metrics; every one is
// reported, zeros included, so dashboards see a series from the start.
var candidateStatuses = []string{model.StatusPending, model.StatusAccepted, model.StatusRejected,
	model.StatusSnoozed, model.StatusDuplicate}

// candidateCounts counts candidates by status. It decodes the candidates
// of each status; the metrics cache bounds how often that happens.
func candidateCounts(store *storage.Store) (map[string]int, error) {
	out := make(map[string]int, len(candidateStatuses))
	for _, st := range candidateStatuses {
		cs, err := store.Candidates(st)
		if err != nil {
			return out, err
		}
		out[st] = len(cs)
	}
	return out, nil
}

// storeProbe is the short store health check behind /readyz and the
// watchdog: one read transaction that looks up one key, not a full
// tx.Check, which would read every page of a large store.
type storeProbe struct {
	store   *storage.Store
	timeout time.Duration
	// running is set while a probe's read is in flight. A read cannot be
	// cancelled, so a wedged store gets at most one stuck probe goroutine,
	// and later checks fail at once instead of piling up more.
	running atomic.Bool
}

// probeKey is a source name no config may use (names start with a letter
// or digit), so the probe reads a key that is never there.
const probeKey = "~health-probe"

// Check returns nil when the store answered a read within the timeout.
func (p *storeProbe) Check(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return errors.New("store read still running from an earlier check")
	}
	done := make(chan error, 1)
	go func() {
		defer p.running.Store(false)
		_, err := p.store.SourceState(probeKey)
		done <- err
	}()
	t := time.NewTimer(p.timeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return fmt.Errorf("store read took longer than %s", p.timeout)
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// watchdog pings systemd every interval while the store probe passes; when
// it fails, pings stop and systemd restarts the service after WatchdogSec.
type watchdog struct {
	every    time.Duration
	probe    *storeProbe
	notifier *sdnotify.Notifier
	log      *slog.Logger
}

// Run pings until ctx ends.
func (w *watchdog) Run(ctx context.Context) error {
	t := time.NewTicker(w.every)
	defer t.Stop()
	healthy := true
	for {
		err := w.probe.Check(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			if healthy {
				w.log.Error("store health check failed, withholding watchdog pings", "err", err)
			}
			healthy = false
		default:
			if !healthy {
				w.log.Info("store health check passes again")
			}
			healthy = true
			if err := w.notifier.Watchdog(); err != nil {
				w.log.Warn("notify systemd watchdog", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// runRetention prunes at start and then daily until ctx ends. A failed
// prune is logged and retried the next day; it never stops the daemon.
func runRetention(ctx context.Context, store *storage.Store, r storage.Retention, log *slog.Logger) error {
	t := time.NewTicker(pruneEvery)
	defer t.Stop()
	for {
		st, err := store.Prune(time.Now(), r)
		if err != nil {
			log.Error("prune store", "err", err, "items", st.Items, "seen", st.Seen, "decisions", st.Decisions)
		} else {
			log.Info("store pruned", "items", st.Items, "seen", st.Seen, "decisions", st.Decisions)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// opsServer is the metrics/ops HTTP listener.
type opsServer struct {
	ln  net.Listener
	srv *http.Server
	ops *opsFile // nil when the backup endpoint is off
	log *slog.Logger
}

// newOpsServer binds metrics_addr now, so a port in use is known (and
// logged) at start, and adds POST /backup when the address is a loopback
// one.
func newOpsServer(d *daemon, mux *http.ServeMux, log *slog.Logger) (*opsServer, error) {
	ln, err := net.Listen("tcp", d.cfg.Service.MetricsAddr)
	if err != nil {
		return nil, fmt.Errorf("listen metrics %s: %w", d.cfg.Service.MetricsAddr, err)
	}
	s := &opsServer{ln: ln, log: log,
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	if d.cfg.Service.IsLoopback() {
		ops, err := writeOpsFile(d.cfg.StateDir, "http://"+ln.Addr().String())
		if err != nil {
			ln.Close()
			return nil, err
		}
		s.ops = ops
		mux.Handle("POST /backup", backupHandler(d.store, ops.Token, log))
	} else {
		log.Warn("backup endpoint off: metrics_addr is not a loopback address", "addr", d.cfg.Service.MetricsAddr)
	}
	return s, nil
}

// Run serves until ctx ends, then shuts down, giving scrapes and a backup
// in progress a few seconds.
func (s *opsServer) Run(ctx context.Context) error {
	s.log.Info("metrics listening", "addr", s.ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	var err error
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if serr := s.srv.Shutdown(sctx); serr != nil {
			s.srv.Close() // force: a backup stream outlived the grace
		}
		<-errc // Serve returns ErrServerClosed after Shutdown
	case err = <-errc:
		err = fmt.Errorf("serve metrics: %w", err)
	}
	if s.ops != nil {
		s.ops.remove(s.log)
	}
	return err
}
