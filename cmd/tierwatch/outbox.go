package main

// `tierwatch outbox list|retry|drop`: show and handle alerts waiting in the
// outbox and dead letters. These open the store, so they run while the
// daemon is stopped.

import (
	"errors"
	"fmt"
	"time"

	"github.com/tierwatch/tierwatch/notify"
)

func cmdOutbox(e *env, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: tierwatch outbox list [--state pending|dead] [--json] | retry ID|--all-dead | drop ID")
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
		return fmt.Errorf("usage: tierwatch outbox list [--state S] [--json] | retry ID|--all-dead | drop ID")
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	store, err := openStore(cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	switch sub {
	case "list":
		return notify.ListOutbox(e.stdout, store, *state, *asJSON)
	case "retry":
		n, err := notify.RetryOutbox(store, id, time.Now())
		if n > 0 {
			fmt.Fprintf(e.stdout, "requeued %d record(s)\n", n)
		}
		return err
	}
	if err := notify.DropOutbox(store, id); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "dropped %s\n", id)
	return nil
}
