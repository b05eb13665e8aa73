package main

// `tierwatch notify test DEST`: send a sample alert to one destination,
// outside the outbox, and print what the receiver answered.

import (
	"context"
	"errors"
	"fmt"
	"os/signal"
	"syscall"

	"github.com/tierwatch/tierwatch/notify"
)

func cmdNotify(e *env, args []string) error {
	if len(args) != 2 || args[0] != "test" {
		return errors.New("usage: tierwatch notify test DEST")
	}
	dest := args[1]
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	if _, ok := cfg.Alerts.Destination(dest); !ok {
		return fmt.Errorf("no destination %q in the config", dest)
	}
	ns, err := notify.Build(cfg.Alerts, notifierFactories(), notify.Options{Log: e.logger(cfg.LogLevel)})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	rc, err := notify.Test(ctx, ns[dest])
	if rc.Status != 0 {
		fmt.Fprintf(e.stdout, "%s answered %d: %s\n", dest, rc.Status, notify.Truncate(rc.Body, 500))
	}
	return err
}
