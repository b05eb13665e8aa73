package config

import (
	"strings"
	"testing"
	"time"
)

func TestServiceDefaultsAndDecode(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want Service
	}{
		{"defaults", "state_dir: ./d\n", DefaultService()},
		{"set", "service:\n  metrics_addr: '[::1]:9100'\n  watchdog: {disabled: true, check_timeout: 2s}\n  source_failing_after: 90m\n",
			Service{MetricsAddr: "[::1]:9100", Watchdog: Watchdog{Disabled: true, CheckTimeout: 2 * time.Second}, SourceFailingAfter: 90 * time.Minute}},
		{"listener off", "service:\n  metrics_addr: ''\n",
			Service{Watchdog: Watchdog{CheckTimeout: 5 * time.Second}, SourceFailingAfter: 6 * time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("c.yaml", []byte(tt.yaml), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Service != tt.want {
				t.Errorf("got %+v, want %+v", cfg.Service, tt.want)
			}
		})
	}
}

func TestServiceValidate(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // substring of the one problem; "" = none
	}{
		{"bad addr", "service:\n  metrics_addr: nocolon\n", "c.yaml:2: service.metrics_addr: must be host:port"},
		{"no port", "service:\n  metrics_addr: '127.0.0.1:'\n", "service.metrics_addr: has no port"},
		{"check timeout too short", "service:\n  watchdog: {check_timeout: 1ms}\n", "service.watchdog.check_timeout: must be between 100ms and 1m"},
		{"failing after too short", "service:\n  source_failing_after: 10s\n", "service.source_failing_after: must be at least 1m"},
		{"unknown key", "service:\n  metrics: x\n", "field metrics not found"},
		{"ok", "service:\n  metrics_addr: 'localhost:0'\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tt.yaml), Options{})
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("got %v, want no problem", err)
			case tt.want != "" && err == nil:
				t.Fatalf("got no problem, want %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func TestServiceIsLoopback(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:9765", true},
		{"127.0.0.2:9765", true},
		{"[::1]:9765", true},
		{"localhost:9765", true},
		{":9765", false},
		{"0.0.0.0:9765", false},
		{"192.0.2.1:9765", false},
		{"example.com:9765", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := (Service{MetricsAddr: tt.addr}).IsLoopback(); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
