package main

import (
	"log/slog"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/monitor"
	"github.com/tierwatch/tierwatch/monitor/fedreg"
	"github.com/tierwatch/tierwatch/monitor/fpds"
	"github.com/tierwatch/tierwatch/monitor/page"
	"github.com/tierwatch/tierwatch/monitor/sam"
	"github.com/tierwatch/tierwatch/monitor/usaspending"
)

// adapterKinds builds the adapter of each source type other than feeds
// (the poller has the feed adapter built in).
var adapterKinds = map[string]func(*slog.Logger) monitor.Adapter{
	model.SourceSAMOpportunities: func(l *slog.Logger) monitor.Adapter { return sam.NewOpportunities(l) },
	model.SourceSAMAwards:        func(l *slog.Logger) monitor.Adapter { return sam.NewAwards(l) },
	model.SourceUSAspending:      func(l *slog.Logger) monitor.Adapter { return usaspending.New(l) },
	model.SourceFederalRegister:  func(l *slog.Logger) monitor.Adapter { return fedreg.New(l) },
	model.SourceFPDSAtom:         func(l *slog.Logger) monitor.Adapter { return fpds.New(l) },
	model.SourcePage:             func(l *slog.Logger) monitor.Adapter { return page.New(l) },
}

// adapters returns the adapters of the source types the config uses, by
// source type.
func adapters(cfg *config.Config, log *slog.Logger) map[string]monitor.Adapter {
	out := map[string]monitor.Adapter{}
	for _, src := range cfg.Sources {
		build, ok := adapterKinds[src.Type]
		if _, done := out[src.Type]; !ok || done {
			continue
		}
		out[src.Type] = build(log.With("stage", "poll"))
	}
	return out
}
