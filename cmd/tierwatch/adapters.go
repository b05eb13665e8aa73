package main

import (
	"log/slog"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/monitor"
)

// adapters returns the source adapters other than feeds, by source type.
func adapters(cfg *config.Config, log *slog.Logger) map[string]monitor.Adapter {
	return map[string]monitor.Adapter{}
}
