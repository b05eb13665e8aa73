package main

// `tierwatch outbox list|retry|drop`: show and handle alerts waiting in the
// outbox and dead letters, on the store when no daemon runs and through
// the daemon's review API when one does.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/notify"
	"github.com/tierwatch/tierwatch/review"
)

func cmdOutbox(e *env, args []string) error {
	const usage = "usage: tierwatch outbox list [--state pending|dead] [--json] | retry ID|--all-dead | drop ID"
	if len(args) == 0 {
		return errors.New(usage)
	}
	sub, args := args[0], args[1:]
	fs := newFlags(e, "outbox "+sub)
	asJSON := fs.Bool("json", false, "print JSON (list)")
	state := fs.String("state", "", "only records in this state: pending or dead (list)")
	allDead := fs.Bool("all-dead", false, "requeue every dead record (retry)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	id := fs.Arg(0)
	switch {
	case sub == "list":
	case sub == "retry" && (id == "") == *allDead:
	case sub == "drop" && id != "":
	default:
		return errors.New(usage)
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	store, client, err := openLocalOrDaemon(cfg)
	if err != nil {
		return err
	}
	var ob review.OutboxAdmin = client
	if store != nil {
		defer store.Close()
		ob = storeOutbox{admin: store, now: time.Now}
	}
	ctx := context.Background()
	switch sub {
	case "list":
		recs, err := ob.Outbox(ctx, *state)
		if err != nil {
			return err
		}
		return notify.ListOutbox(e.stdout, recs, *asJSON)
	case "retry":
		n, err := ob.RetryOutbox(ctx, id)
		if n > 0 {
			fmt.Fprintf(e.stdout, "requeued %d record(s)\n", n)
		}
		return err
	}
	if err := ob.DropOutbox(ctx, id); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "dropped %s\n", id)
	return nil
}

// storeOutbox is the review.OutboxAdmin over the store: the CLI's when it
// holds the store, the daemon's behind its API.
type storeOutbox struct {
	admin notify.Admin
	now   func() time.Time
}

// Outbox returns the records in state ("" = all).
func (o storeOutbox) Outbox(_ context.Context, state string) ([]model.OutboxRecord, error) {
	return o.admin.Outbox(state)
}

// RetryOutbox requeues dead record id, or every dead one when id is "". A
// named record that is not dead gives an error wrapping review.ErrConflict.
func (o storeOutbox) RetryOutbox(_ context.Context, id string) (int, error) {
	n, err := notify.RetryOutbox(o.admin, id, o.now())
	if errors.Is(err, notify.ErrNotDead) {
		// The API answers a conflict with 409, not 500.
		return n, fmt.Errorf("%w (%w)", err, review.ErrConflict)
	}
	return n, err
}

// DropOutbox deletes record id whatever its state.
func (o storeOutbox) DropOutbox(_ context.Context, id string) error {
	return notify.DropOutbox(o.admin, id)
}
