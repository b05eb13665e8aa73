package main

import "fmt"

// cmdCheck validates the config by the same code as run, and exits 2
// listing every problem.
func cmdCheck(e *env, args []string) error {
	fs := newFlags(e, "check")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	n := 0
	for _, s := range cfg.Sources {
		if !s.Disabled {
			n++
		}
	}
	fmt.Fprintf(e.stdout, "%s: ok: %d sources (%d enabled), %d entities, %d rules, %d alert destinations\n",
		e.configPath, len(cfg.Sources), n, len(cfg.Entities), len(cfg.Rules), len(cfg.Alerts.Destinations))
	return nil
}
