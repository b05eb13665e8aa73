package config

import (
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

// Destination types.
const (
	DestSlack   = "slack"
	DestWebhook = "webhook"
)

// Alert defaults, applied by WithDefaults (zero in the file means default).
const (
	DefaultReviewURL   = "http://127.0.0.1:8765"
	DefaultMaxAttempts = 12
	DefaultTimeout     = 10 * time.Second
	// DefaultSlackRate follows Slack's rate-limit page: "no more than one
	// message per second" per incoming webhook (api.slack.com/docs/rate-limits).
	DefaultSlackRate = time.Second
)

// Alerts configures where candidates are announced.
type Alerts struct {
	// ReviewURL is the base URL of the review page, used for "open
	// candidate" links (<ReviewURL>/#<id>); default DefaultReviewURL.
	ReviewURL string `yaml:"review_url"`
	// The score at which a candidate alerts again is candidates.alert_score
	// (see Candidates), where the grouper that detects the crossing reads it.
	// Destinations are the receivers; names are unique.
	Destinations []Destination `yaml:"destinations"`
}

// Destination is one alert receiver.
type Destination struct {
	Name string `yaml:"name"`
	// Type is DestSlack or DestWebhook.
	Type string `yaml:"type"`
	// URL is the Slack incoming-webhook URL or the webhook endpoint. It is a
	// secret: whoever knows a Slack webhook URL can post to the channel.
	URL Secret `yaml:"url"`
	// Secret signs webhook bodies (Standard Webhooks, "whsec_<base64>" or
	// raw bytes); required for webhooks, unused by Slack.
	Secret Secret `yaml:"secret"`
	// Default destinations receive every alert that passes their filters,
	// not only those of rules that route to them.
	Default bool `yaml:"default"`
	// MinScore drops candidates scored below it.
	MinScore float64 `yaml:"min_score"`
	// MaxTier keeps only candidates whose best source tier is <= MaxTier;
	// 0 keeps all (candidates of unknown tier included).
	MaxTier model.Tier `yaml:"max_tier"`
	// Rate is the minimum gap between two messages; Slack default 1s.
	Rate time.Duration `yaml:"rate"`
	// Digest: once After messages went out within Window, the due rest go
	// as one summary message. After 0 disables digests.
	Digest Digest `yaml:"digest"`
	// MaxAttempts before a record is dead-lettered; default 12.
	MaxAttempts int `yaml:"max_attempts"`
	// Timeout bounds one delivery attempt; default 10s.
	Timeout time.Duration `yaml:"timeout"`
}

// Digest configures digest mode of one destination.
type Digest struct {
	After  int           `yaml:"after"`
	Window time.Duration `yaml:"window"`
}

// WithDefaults returns a copy with every zero tunable set to its default.
// It does not touch the Destinations slice of a; the copy has its own.
func (a Alerts) WithDefaults() Alerts {
	if a.ReviewURL == "" {
		a.ReviewURL = DefaultReviewURL
	}
	ds := make([]Destination, len(a.Destinations))
	for i, d := range a.Destinations {
		ds[i] = d.WithDefaults()
	}
	a.Destinations = ds
	return a
}

// WithDefaults returns d with zero tunables set to their defaults.
func (d Destination) WithDefaults() Destination {
	if d.MaxAttempts == 0 {
		d.MaxAttempts = DefaultMaxAttempts
	}
	if d.Timeout == 0 {
		d.Timeout = DefaultTimeout
	}
	if d.Rate == 0 && d.Type == DestSlack {
		d.Rate = DefaultSlackRate
	}
	return d
}

// Destination returns the destination named name and whether it exists.
func (a Alerts) Destination(name string) (Destination, bool) {
	for _, d := range a.Destinations {
		if d.Name == name {
			return d, true
		}
	}
	return Destination{}, false
}

// Validate returns the problems of the alerts section, with paths relative
// to it ("destinations[1].url"). Secret values never appear in messages.
func (a Alerts) Validate() []Problem {
	var ps []Problem
	add := func(path, format string, args ...any) {
		ps = append(ps, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	if a.ReviewURL != "" {
		if u, err := url.Parse(a.ReviewURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("review_url", "must be an http(s) URL with a host, not %q", a.ReviewURL)
		}
	}
	names := map[string]int{}
	for i, d := range a.Destinations {
		p := fmt.Sprintf("destinations[%d]", i)
		if j, dup := names[d.Name]; dup && d.Name != "" {
			add(p+".name", "%q is already the name of destinations[%d]", d.Name, j)
		}
		names[d.Name] = i
		ps = append(ps, prefix(p, d.Validate())...)
	}
	return ps
}

// Validate checks one destination on its own.
func (d Destination) Validate() []Problem {
	var ps []Problem
	add := func(path, format string, args ...any) {
		ps = append(ps, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	if !sourceName.MatchString(d.Name) {
		add("name", "must be 1-64 characters of a-z, 0-9, '-', '_' or '.', starting with a letter or digit; got %q", d.Name)
	}
	switch d.Type {
	case DestSlack, DestWebhook:
	default:
		add("type", "unknown destination type %q (want slack or webhook)", d.Type)
	}
	switch {
	case !d.URL.IsSet():
		add("url", "must be set")
	case d.URL.Value() != "":
		// The URL is a secret: say what is wrong, never what it is.
		u, err := url.Parse(d.URL.Value())
		switch {
		case err != nil:
			add("url", "%s is not a URL", d.URL)
		case u.Scheme != "http" && u.Scheme != "https":
			add("url", "%s must be an http or https URL", d.URL)
		case u.Host == "":
			add("url", "%s has no host", d.URL)
		}
	}
	if d.Type == DestWebhook && !d.Secret.IsSet() {
		add("secret", "must be set for webhook destinations (receivers verify the signature)")
	}
	if d.MinScore < 0 {
		add("min_score", "must not be negative")
	}
	if d.MaxTier != 0 && !d.MaxTier.Valid() {
		add("max_tier", "must be 0 (any), 1, 2 or 3, not %d", d.MaxTier)
	}
	if d.Rate < 0 {
		add("rate", "must not be negative")
	}
	if d.Digest.After < 0 {
		add("digest.after", "must not be negative")
	}
	if d.Digest.After > 0 && d.Digest.Window <= 0 {
		add("digest.window", "must be positive when digest.after is set")
	}
	if d.MaxAttempts < 0 {
		add("max_attempts", "must not be negative")
	}
	if d.Timeout < 0 {
		add("timeout", "must not be negative")
	}
	return ps
}

// secretRefs lists the destinations' secrets with their key paths, for the
// loader to resolve.
func (a *Alerts) secretRefs() []namedSecret {
	var out []namedSecret
	for i := range a.Destinations {
		d := &a.Destinations[i]
		p := fmt.Sprintf("alerts.destinations[%d]", i)
		out = append(out, namedSecret{path: p + ".url", secret: &d.URL})
		if d.Secret.IsSet() {
			out = append(out, namedSecret{path: p + ".secret", secret: &d.Secret})
		}
	}
	return out
}

// Route returns the names of the destinations that receive event for c:
// those named in c.Routes (rule routes) and the Default ones, each kept only
// if c passes its MinScore and MaxTier filters. Names are deduplicated and in
// the order of Destinations; route names that match no destination are
// ignored. A nil c (source health events) goes to the Default destinations,
// unfiltered.
func (a Alerts) Route(c *model.Candidate, event string) []string {
	_ = event // every event routes the same way today; kept so routing may depend on it
	var out []string
	for _, d := range a.Destinations {
		if c == nil {
			if d.Default {
				out = append(out, d.Name)
			}
			continue
		}
		if !d.Default && !slices.Contains(c.Routes, d.Name) {
			continue
		}
		if c.Score < d.MinScore {
			continue
		}
		if d.MaxTier != 0 {
			if best := c.BestTier(); best == 0 || best > d.MaxTier {
				continue
			}
		}
		if !slices.Contains(out, d.Name) {
			out = append(out, d.Name)
		}
	}
	return out
}
