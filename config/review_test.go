package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReviewSection(t *testing.T) {
	env := map[string]string{"TW_REVIEW_TOKEN": "s3cret-token"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct {
		name      string
		yaml      string
		wantErr   string // substring of the problems; "" = loads
		wantAddr  string
		wantToken string
	}{
		{name: "defaults", yaml: "state_dir: ./d\n", wantAddr: DefaultReviewAddr},
		{name: "token from env", yaml: "review:\n  addr: 127.0.0.1:9000\n  token: env:TW_REVIEW_TOKEN\n",
			wantAddr: "127.0.0.1:9000", wantToken: "s3cret-token"},
		{name: "tcp disabled", yaml: "review:\n  addr: \"\"\n  socket: review.sock\n"},
		{name: "missing env", yaml: "review:\n  token: env:TW_NOT_SET\n", wantErr: "review.token: environment variable TW_NOT_SET is not set"},
		{name: "bad addr", yaml: "review:\n  addr: localhost\n", wantErr: "review.addr: must be host:port"},
		{name: "bad ttl", yaml: "review:\n  session_ttl: 1s\n", wantErr: "review.session_ttl: must be between"},
		{name: "unknown key", yaml: "review:\n  adr: x\n", wantErr: "adr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := LoadWith(path, Options{LookupEnv: lookup})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error leaks the token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if cfg.Review.Addr != tt.wantAddr {
				t.Errorf("addr = %q, want %q", cfg.Review.Addr, tt.wantAddr)
			}
			if got := cfg.Review.Token.Value(); got != tt.wantToken {
				t.Errorf("token = %q, want %q", got, tt.wantToken)
			}
			if s := cfg.Review.Token.String(); strings.Contains(s, "s3cret") {
				t.Errorf("token String leaks the value: %q", s)
			}
		})
	}
}

func TestReviewAbs(t *testing.T) {
	r := Review{}
	tests := []struct{ name, p, want string }{
		{"empty", "", ""},
		{"absolute", "/srv/timeline", "/srv/timeline"},
		{"relative", "timeline/events", "/etc/tierwatch/timeline/events"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.Abs("/etc/tierwatch/config.yaml", tt.p); got != tt.want {
				t.Errorf("Abs(%q) = %q, want %q", tt.p, got, tt.want)
			}
		})
	}
}
