package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/tierwatch/tierwatch/review"
	"github.com/tierwatch/tierwatch/timeline"
)

// exporter writes accepted, not yet exported candidates into dir: a
// review.Queue on the store when no daemon runs, a review.Client of the
// daemon's API (which writes as the daemon's user) when one does.
type exporter interface {
	Export(ctx context.Context, dir string) ([]timeline.Written, error)
}

// cmdExport writes accepted, not yet exported candidates as timeline event
// files (--dir), or checks a directory of event files (--validate).
func cmdExport(e *env, args []string) error {
	fs := newFlags(e, "export")
	dir := fs.String("dir", "", "write accepted candidates here as <id>.md (default review.export_dir)")
	validate := fs.String("validate", "", "check every *.md file of this directory against the timeline rules")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 || (*dir != "" && *validate != "") {
		return &exitError{code: 2, err: errors.New("usage: tierwatch export --dir DIR | --validate DIR")}
	}
	if *validate != "" {
		return validateDir(e, *validate)
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	if *dir == "" {
		*dir = cfg.Review.Abs(cfg.File, cfg.Review.ExportDir)
	}
	if *dir == "" {
		return &exitError{code: 2, err: errors.New("export needs --dir DIR (or review.export_dir in the config)")}
	}
	// The daemon resolves nothing against the caller's directory.
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return fmt.Errorf("export to %s: %w", *dir, err)
	}
	*dir = abs
	store, client, err := openLocalOrDaemon(cfg)
	if err != nil {
		return err
	}
	var x exporter = client
	if store != nil {
		defer store.Close()
		x = review.NewQueue(store, nil, nil)
	}
	written, err := x.Export(context.Background(), *dir)
	for _, w := range written {
		fmt.Fprintf(e.stdout, "wrote %s (candidate %s)\n", w.File, w.CandidateID)
	}
	fmt.Fprintf(e.stdout, "%d events exported to %s\n", len(written), *dir)
	return err
}

// validateDir lists every problem of the event files in dir; it fails with
// status 1 when any is an error (warnings alone pass).
func validateDir(e *env, dir string) error {
	ps, err := timeline.ValidateDir(dir)
	if err != nil {
		return err
	}
	errs, warns := 0, 0
	for _, p := range ps {
		fmt.Fprintln(e.stdout, p.String())
		if p.Warning {
			warns++
		} else {
			errs++
		}
	}
	fmt.Fprintf(e.stdout, "%d errors, %d warnings\n", errs, warns)
	if errs > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%s breaks the timeline rules", dir)}
	}
	return nil
}
