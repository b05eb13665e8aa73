package main

import (
	"log/slog"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/ingest"
	"github.com/tierwatch/tierwatch/monitor"
	"github.com/tierwatch/tierwatch/storage"
)

// pipeline is the polling half of tierwatch, wired from the config.
type pipeline struct {
	ingest *ingest.Pipeline
	poller *monitor.Poller
}

// buildPipeline wires fetcher, adapters, poller and ingest over store.
func buildPipeline(cfg *config.Config, store *storage.Store, log *slog.Logger) (*pipeline, error) {
	ing, err := ingest.New(store, cfg, log.With("stage", "ingest"))
	if err != nil {
		return nil, err
	}
	f := monitor.NewFetcher(monitor.FetchOptions{
		Timeout:        cfg.Fetch.Timeout,
		ConnectTimeout: cfg.Fetch.ConnectTimeout,
		MaxBytes:       cfg.Fetch.MaxBytes,
		MaxRedirects:   cfg.Fetch.MaxRedirects,
		UserAgent:      userAgent(cfg),
	}, log.With("stage", "fetch"))
	p := monitor.NewPoller(f, store, ing, adapters(cfg, log), monitor.PollerOptions{
		Concurrency: cfg.Fetch.Concurrency,
		HostGap:     cfg.Fetch.HostGap,
		BackoffBase: cfg.Fetch.BackoffBase,
		BackoffMax:  cfg.Fetch.BackoffMax,
	}, log.With("stage", "poll"))
	return &pipeline{ingest: ing, poller: p}, nil
}

func userAgent(cfg *config.Config) string {
	if cfg.Fetch.UserAgent != "" {
		return cfg.Fetch.UserAgent
	}
	return "tierwatch/" + versionString() + " (+https://github.com/tierwatch/tierwatch)"
}
