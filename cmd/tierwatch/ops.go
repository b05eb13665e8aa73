package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/review"
	"github.com/tierwatch/tierwatch/storage"
)

// openLocalOrDaemon opens the store for an operator command; when a running
// daemon holds it, it returns a client of the daemon's review API instead
// (unix socket first, then TCP with the token). Exactly one of the two is
// non-nil on success; the caller closes the store.
func openLocalOrDaemon(cfg *config.Config) (*storage.Store, *review.Client, error) {
	store, err := storage.Open(cfg.StateDir, storage.Options{LockTimeout: cliLockTimeout})
	if err == nil {
		return store, nil, nil
	}
	if !errors.Is(err, storage.ErrLocked) {
		return nil, nil, err
	}
	rc := cfg.Review
	if sock := rc.Abs(cfg.File, rc.Socket); sock != "" {
		if _, serr := os.Stat(sock); serr == nil {
			return nil, review.NewSocketClient(sock), nil
		}
	}
	if rc.Addr != "" && rc.Token.IsSet() {
		return nil, review.NewClient(rc.Addr, rc.Token.Value()), nil
	}
	return nil, nil, fmt.Errorf("%w, and its review API is not reachable (set review.token or review.socket)", err)
}
