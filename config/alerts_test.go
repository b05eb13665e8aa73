package config

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

func slackDest(name string) Destination {
	return Destination{Name: name, Type: DestSlack, URL: NewSecret("https://hooks.slack.com/services/T0/B0/sekrit")}
}

func TestAlertsValidate(t *testing.T) {
	hook := Destination{Name: "hook", Type: DestWebhook, URL: NewSecret("https://recv.example/hook"), Secret: NewSecret("whsec_abc")}
	tests := []struct {
		name  string
		mod   func(a *Alerts)
		paths []string // want exactly these problem paths
	}{
		{"valid", func(a *Alerts) {}, nil},
		{"duplicate name", func(a *Alerts) { a.Destinations[1].Name = "chan" }, []string{"destinations[1].name"}},
		{"unknown type", func(a *Alerts) { a.Destinations[0].Type = "email" }, []string{"destinations[0].type"}},
		{"missing url", func(a *Alerts) { a.Destinations[0].URL = Secret{} }, []string{"destinations[0].url"}},
		{"bad scheme", func(a *Alerts) { a.Destinations[0].URL = NewSecret("ftp://x/y") }, []string{"destinations[0].url"}},
		{"no host", func(a *Alerts) { a.Destinations[0].URL = NewSecret("https:///path") }, []string{"destinations[0].url"}},
		{"webhook without secret", func(a *Alerts) { a.Destinations[1].Secret = Secret{} }, []string{"destinations[1].secret"}},
		{"bad tier", func(a *Alerts) { a.Destinations[0].MaxTier = 4 }, []string{"destinations[0].max_tier"}},
		{"negatives", func(a *Alerts) {
			d := &a.Destinations[0]
			d.MinScore, d.Rate, d.MaxAttempts, d.Timeout, d.Digest.After = -1, -1, -1, -1, -1
		}, []string{"destinations[0].min_score", "destinations[0].rate", "destinations[0].digest.after", "destinations[0].max_attempts", "destinations[0].timeout"}},
		{"digest without window", func(a *Alerts) { a.Destinations[0].Digest.After = 3 }, []string{"destinations[0].digest.window"}},
		{"bad review url", func(a *Alerts) { a.ReviewURL = "localhost:8765" }, []string{"review_url"}},
		{"bad name", func(a *Alerts) { a.Destinations[0].Name = "Has Space" }, []string{"destinations[0].name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Alerts{Destinations: []Destination{slackDest("chan"), hook}}
			tt.mod(&a)
			var got []string
			for _, p := range a.Validate() {
				got = append(got, p.Path)
				if strings.Contains(p.Msg, "sekrit") || strings.Contains(p.Msg, "ftp://x/y") || strings.Contains(p.Msg, "whsec_abc") {
					t.Errorf("problem %q leaks a secret", p)
				}
			}
			if !slices.Equal(got, tt.paths) {
				t.Errorf("problem paths = %q, want %q", got, tt.paths)
			}
		})
	}
}

func TestAlertsRoute(t *testing.T) {
	a := Alerts{Destinations: []Destination{
		{Name: "all", Default: true},
		{Name: "ice", MinScore: 5},
		{Name: "tier1", Default: true, MaxTier: 1},
		{Name: "picky", MinScore: 50, Default: true},
	}}
	cand := func(score float64, tier model.Tier, routes ...string) *model.Candidate {
		c := &model.Candidate{Score: score, Routes: routes}
		if tier != 0 {
			c.Sources = []model.Ref{{Publisher: "p", Tier: tier}}
		}
		return c
	}
	tests := []struct {
		name string
		c    *model.Candidate
		want []string
	}{
		{"defaults only", cand(10, 2), []string{"all"}},
		{"rule route plus defaults", cand(10, 1, "ice"), []string{"all", "ice", "tier1"}},
		{"route below min score", cand(4, 2, "ice"), []string{"all"}},
		{"unknown tier fails max tier", cand(10, 0), []string{"all"}},
		{"route named twice and unknown route", cand(60, 1, "ice", "ice", "nope"), []string{"all", "ice", "tier1", "picky"}},
		{"route to a default destination", cand(10, 2, "all"), []string{"all"}},
		{"source event", nil, []string{"all", "tier1", "picky"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := a.Route(tt.c, model.AlertCreated)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Route = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAlertsWithDefaults(t *testing.T) {
	a := Alerts{Destinations: []Destination{slackDest("s"), {Name: "w", Type: DestWebhook, Rate: 5 * time.Second, MaxAttempts: 3}}}
	got := a.WithDefaults()
	if got.ReviewURL != DefaultReviewURL {
		t.Errorf("ReviewURL = %q, want %q", got.ReviewURL, DefaultReviewURL)
	}
	s, w := got.Destinations[0], got.Destinations[1]
	if s.Rate != time.Second || s.MaxAttempts != DefaultMaxAttempts || s.Timeout != DefaultTimeout {
		t.Errorf("slack defaults = rate %s attempts %d timeout %s", s.Rate, s.MaxAttempts, s.Timeout)
	}
	if w.Rate != 5*time.Second || w.MaxAttempts != 3 {
		t.Errorf("webhook kept = rate %s attempts %d, want 5s 3", w.Rate, w.MaxAttempts)
	}
	if a.Destinations[0].MaxAttempts != 0 {
		t.Error("WithDefaults changed the original slice")
	}
}

// TestAlertsParse runs the alerts section through the real loader: strict
// decoding, env: secrets, key paths of problems, and redaction in errors.
func TestAlertsParse(t *testing.T) {
	env := map[string]string{"SLACK_URL": "https://hooks.slack.com/services/T1/B1/topsecret", "HOOK_SECRET": "whsec_c2VjcmV0"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct {
		name    string
		yaml    string
		wantErr string // substring; "" = must load
	}{
		{"ok", `
alerts:
  destinations:
    - name: newsroom
      type: slack
      url: env:SLACK_URL
      default: true
      max_tier: 1
      digest: {after: 5, window: 10m}
    - name: archive
      type: webhook
      url: https://recv.example/hook
      secret: env:HOOK_SECRET
      rate: 2s
`, ""},
		{"missing env", `
alerts:
  destinations:
    - {name: a, type: slack, url: env:NOPE}
`, "alerts.destinations[0].url: environment variable NOPE is not set"},
		{"unknown key", `
alerts:
  destinations:
    - {name: a, type: slack, url: env:SLACK_URL, channel: x}
`, "channel"},
		{"bad type", `
alerts:
  destinations:
    - {name: a, type: pager, url: env:SLACK_URL}
`, "alerts.destinations[0].type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("config.yaml", []byte(tt.yaml), Options{LookupEnv: lookup})
			if tt.wantErr == "" {
				// Other sections' defaults are not this test's business:
				// decode and resolve with the loader's own steps, then
				// validate only the alerts section.
				c := Defaults()
				if _, ps := decodeStrict("config.yaml", []byte(tt.yaml), &c); len(ps) > 0 {
					t.Fatalf("decode: %v", ps)
				}
				if ps := append(c.resolveSecrets(".", lookup), c.Alerts.Validate()...); len(ps) > 0 {
					t.Fatalf("resolve and validate: %v", Problems(ps))
				}
				cfg = &c
				d, ok := cfg.Alerts.Destination("newsroom")
				if !ok || d.URL.Value() != env["SLACK_URL"] || !d.Default || d.MaxTier != 1 || d.Digest.After != 5 || d.Digest.Window != 10*time.Minute {
					t.Errorf("newsroom = %+v", d)
				}
				h, _ := cfg.Alerts.Destination("archive")
				if h.Secret.Value() != env["HOOK_SECRET"] || h.Rate != 2*time.Second {
					t.Errorf("archive = %+v", h)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse succeeded, want error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %q, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "topsecret") {
				t.Errorf("error leaks the Slack URL: %q", err)
			}
		})
	}
}
