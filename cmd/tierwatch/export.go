package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/tierwatch/tierwatch/review"
	"github.com/tierwatch/tierwatch/storage"
	"github.com/tierwatch/tierwatch/timeline"
)

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
	store, err := openStore(cfg)
	if errors.Is(err, storage.ErrLocked) {
		return fmt.Errorf("%w; stop the daemon to export (the store allows one process)", err)
	}
	if err != nil {
		return err
	}
	defer store.Close()
	written, err := review.NewQueue(store, nil, nil).Export(context.Background(), *dir)
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
