package config

import (
	"fmt"
	"net"
	"time"
)

// Service configures how `tierwatch run` behaves as a long-running service:
// the metrics and operations listener, the systemd watchdog, and when a
// failing source becomes worth an alert.
type Service struct {
	// MetricsAddr is the TCP address (host:port) of /metrics, /healthz,
	// /readyz and the backup endpoint; default "127.0.0.1:9765". "" turns
	// the listener off (and with it `tierwatch backup` of a running daemon).
	// The backup endpoint answers only when this address is a loopback one.
	MetricsAddr string `yaml:"metrics_addr"`
	// Watchdog tunes the systemd watchdog pings (WatchdogSec= in the unit).
	Watchdog Watchdog `yaml:"watchdog"`
	// SourceFailingAfter is how long a source must fail without a success
	// before one alert says so (and one more when it recovers); default 6h.
	SourceFailingAfter time.Duration `yaml:"source_failing_after"`
}

// Watchdog tunes the systemd watchdog. The interval itself comes from
// systemd (WATCHDOG_USEC); tierwatch pings at half of it, and only while a
// short store health check passes, so a wedged store gets the service
// restarted.
type Watchdog struct {
	// Disabled stops the pings even when systemd asks for them.
	Disabled bool `yaml:"disabled"`
	// CheckTimeout bounds one store health check; a check that takes longer
	// counts as failed. Default 5s.
	CheckTimeout time.Duration `yaml:"check_timeout"`
}

// DefaultMetricsAddr is the default Service.MetricsAddr.
const DefaultMetricsAddr = "127.0.0.1:9765"

// DefaultService returns the service section's defaults.
func DefaultService() Service {
	return Service{
		MetricsAddr:        DefaultMetricsAddr,
		Watchdog:           Watchdog{CheckTimeout: 5 * time.Second},
		SourceFailingAfter: 6 * time.Hour,
	}
}

// Validate checks the service section.
func (s Service) Validate() []Problem {
	var ps []Problem
	add := func(path, format string, args ...any) {
		ps = append(ps, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	if s.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(s.MetricsAddr); err != nil {
			add("metrics_addr", "must be host:port, such as %s: %v", DefaultMetricsAddr, err)
		} else if port == "" {
			add("metrics_addr", "has no port")
		}
	}
	if s.Watchdog.CheckTimeout < 100*time.Millisecond || s.Watchdog.CheckTimeout > time.Minute {
		add("watchdog.check_timeout", "must be between 100ms and 1m, not %s", s.Watchdog.CheckTimeout)
	}
	if s.SourceFailingAfter < time.Minute {
		add("source_failing_after", "must be at least 1m, not %s", s.SourceFailingAfter)
	}
	return ps
}

// IsLoopback reports whether MetricsAddr binds only a loopback address
// ("127.0.0.1:…", "[::1]:…", "localhost:…"). An empty host binds every
// interface and is not loopback.
func (s Service) IsLoopback() bool {
	host, _, err := net.SplitHostPort(s.MetricsAddr)
	if err != nil || host == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
