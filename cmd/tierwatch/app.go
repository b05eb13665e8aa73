package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/storage"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise
// it comes from the module's build information.
var version = ""

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// loadConfig loads the config, turning its problems into one report.
func (e *env) loadConfig() (*config.Config, error) {
	cfg, err := config.Load(e.configPath)
	if err != nil {
		return nil, &exitError{code: 2, err: fmt.Errorf("config has problems:\n%v", err)}
	}
	return cfg, nil
}

// logger returns the process logger: text on a terminal, JSON otherwise.
func (e *env) logger(level string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	if isTerminal(e.stderr) {
		h = slog.NewTextHandler(e.stderr, opts)
	} else {
		h = slog.NewJSONHandler(e.stderr, opts)
	}
	return slog.New(h)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// openStore opens the state store, failing within seconds (not hanging)
// when a running daemon holds it.
func openStore(cfg *config.Config) (*storage.Store, error) {
	st, err := storage.Open(cfg.StateDir, storage.Options{})
	if err != nil {
		return nil, err
	}
	return st, nil
}
