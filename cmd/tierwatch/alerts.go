package main

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/notify"
	"github.com/tierwatch/tierwatch/notify/slack"
	"github.com/tierwatch/tierwatch/notify/webhook"
	"github.com/tierwatch/tierwatch/storage"
)

// notifierFactories maps destination types to their constructors; the
// notifiers are built in one loop over the config (notify.Build).
func notifierFactories() map[string]notify.Factory {
	return map[string]notify.Factory{
		config.DestSlack:   slack.New,
		config.DestWebhook: webhook.New,
	}
}

// buildDispatcher wires the outbox dispatcher over the store.
func buildDispatcher(cfg *config.Config, store *storage.Store, log *slog.Logger) (*notify.Dispatcher, error) {
	log = log.With("stage", "notify")
	ns, err := notify.Build(cfg.Alerts, notifierFactories(), notify.Options{Log: log})
	if err != nil {
		return nil, err
	}
	return notify.NewDispatcher(store, ns, cfg.Alerts, notify.RealClock{}, log), nil
}

// deliverOnce delivers what is due now (for `tierwatch once`). Records
// that fail stay in the outbox for the next run or the daemon.
func deliverOnce(ctx context.Context, cfg *config.Config, store *storage.Store, log *slog.Logger) error {
	if len(cfg.Alerts.Destinations) == 0 {
		return nil
	}
	d, err := buildDispatcher(cfg, store, log)
	if err != nil {
		return err
	}
	_, err = d.DeliverDue(ctx)
	return err
}

// withAlerts runs the dispatcher in the daemon and wakes it whenever an
// ingest enqueued alerts. On reload the running dispatcher is stopped and
// one built from the new destinations takes over (Run and DeliverDue must
// never overlap, so the old one ends first).
func withAlerts(d *daemon) error {
	disp, err := buildDispatcher(d.cfg, d.store, d.log)
	if err != nil {
		return err
	}
	var current atomic.Pointer[notify.Dispatcher]
	current.Store(disp)
	d.pipe.ingest.OnAlert = func() { current.Load().Wake() }
	next := make(chan *notify.Dispatcher, 1)
	d.reloaders = append(d.reloaders, func(cfg *config.Config) error {
		nd, err := buildDispatcher(cfg, d.store, d.log)
		if err != nil {
			return err
		}
		select {
		case <-next: // a reload not yet taken over is superseded
		default:
		}
		next <- nd
		return nil
	})
	d.workers = append(d.workers, worker{name: "alerts", run: func(ctx context.Context) error {
		for {
			runCtx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- current.Load().Run(runCtx) }()
			select {
			case nd := <-next:
				cancel()
				<-done
				current.Store(nd)
				nd.Wake() // deliver what is due under the new config
			case err := <-done:
				cancel()
				return err
			}
		}
	}})
	return nil
}
