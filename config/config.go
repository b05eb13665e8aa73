// Package config loads tierwatch's one YAML file: strictly (unknown keys are
// errors), with defaults set before decoding, secrets as env:/file:/cred:
// references, and every problem reported together with its file, line and
// key path ("config.yaml:14: sources[2].schedule: …").
//
// Each section has a Validate method that returns its problems; Load runs
// them all, so `tierwatch check` and `tierwatch run` judge a config by the
// same code. config imports only model of tierwatch's packages.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/tierwatch/tierwatch/model"
)

// Config is the whole configuration. Relative paths in it (state_dir,
// include, file: URLs, file: secrets) are resolved against the directory of
// the file that holds them.
type Config struct {
	// StateDir holds the bbolt file.
	StateDir string `yaml:"state_dir"`
	// Schedule is the default schedule of sources that set none.
	Schedule string `yaml:"schedule"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
	// Include lists rules packs: files holding entities, groups and rules.
	Include []string `yaml:"include"`

	Fetch     Fetch     `yaml:"fetch"`
	Retention Retention `yaml:"retention"`

	Watch      `yaml:",inline"`
	Tiers      Tiers      `yaml:"tiers"`
	Candidates Candidates `yaml:"candidates"`

	Alerts Alerts `yaml:"alerts"`
	Review Review `yaml:"review"`

	Service Service `yaml:"service"`

	Sources []Source `yaml:"sources"`

	// File is the path the config was loaded from (not a YAML key).
	File string `yaml:"-"`
}

// Fetch tunes the HTTP client and the scheduler's politeness.
type Fetch struct {
	Timeout        time.Duration `yaml:"timeout"`         // whole request, per attempt
	ConnectTimeout time.Duration `yaml:"connect_timeout"` // TCP and TLS handshake
	MaxBytes       int64         `yaml:"max_bytes"`       // body cap after decompression
	MaxRedirects   int           `yaml:"max_redirects"`
	UserAgent      string        `yaml:"user_agent"`   // default names tierwatch and its version
	Concurrency    int           `yaml:"concurrency"`  // sources fetched at once, all hosts
	HostGap        time.Duration `yaml:"host_gap"`     // minimum gap between requests to one host
	Jitter         time.Duration `yaml:"jitter"`       // random delay before a scheduled poll
	BackoffBase    time.Duration `yaml:"backoff_base"` // first retry delay after an error
	BackoffMax     time.Duration `yaml:"backoff_max"`  // cap of the exponential backoff
}

// Retention bounds how long stored records are kept; zero keeps them
// forever. Seen keys are what stop an item that leaves a feed and comes
// back from counting as new, so prune them only well past a feed's memory.
type Retention struct {
	Items     time.Duration `yaml:"items"`
	Seen      time.Duration `yaml:"seen"`
	Decisions time.Duration `yaml:"decisions"`
}

// Source is one thing tierwatch polls.
type Source struct {
	Name string `yaml:"name"`
	// Type is one of the model.Source* constants; default "feed".
	Type string `yaml:"type"`
	URL  string `yaml:"url"`
	// Schedule is a cron spec ("*/30 * * * *") or a descriptor
	// ("@every 30m", "@hourly"); default: the top-level schedule.
	Schedule string `yaml:"schedule"`
	// Publisher names the outlet when the feed's own title is not it.
	Publisher string `yaml:"publisher"`
	// Tier overrides the tier table for this source's items.
	Tier model.Tier `yaml:"tier"`
	// Disabled keeps a source in the file without polling it.
	Disabled bool `yaml:"disabled"`
	// DailyBudget caps requests per UTC day (SAM.gov keys may allow as few
	// as 10); 0 means no cap. Paging counts every request.
	DailyBudget int `yaml:"daily_budget"`
	// Query narrows what procurement, register and page sources ask for;
	// nil means none. It is a pointer so Source stays comparable.
	Query *Query `yaml:"query"`
}

// Defaults returns a Config with every default set; Load decodes over it.
func Defaults() Config {
	return Config{
		StateDir: "./data",
		Schedule: "@every 30m",
		LogLevel: "info",
		Fetch: Fetch{
			Timeout:        30 * time.Second,
			ConnectTimeout: 10 * time.Second,
			MaxBytes:       10 << 20,
			MaxRedirects:   5,
			Concurrency:    8,
			HostGap:        2 * time.Second,
			Jitter:         30 * time.Second,
			BackoffBase:    time.Minute,
			BackoffMax:     6 * time.Hour,
		},
		Tiers:      DefaultTiers(),
		Candidates: DefaultCandidates(),
		Review:     DefaultReview(),
		Service:    DefaultService(),
	}
}

var sourceName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

var sourceTypes = map[string]bool{
	model.SourceFeed: true, model.SourceSAMOpportunities: true, model.SourceSAMAwards: true,
	model.SourceUSAspending: true, model.SourceFederalRegister: true, model.SourceFPDSAtom: true,
	model.SourcePage: true,
}

// Validate returns every problem of the whole config.
func (c *Config) Validate() []Problem {
	var ps []Problem
	add := func(path, format string, args ...any) {
		ps = append(ps, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	if c.StateDir == "" {
		add("state_dir", "must be set")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		add("log_level", "must be debug, info, warn or error, not %q", c.LogLevel)
	}
	if err := CheckSchedule(c.Schedule); err != nil {
		add("schedule", "%v", err)
	}
	ps = append(ps, prefix("fetch", c.Fetch.Validate())...)
	ps = append(ps, prefix("retention", c.Retention.Validate())...)
	ps = append(ps, c.Watch.Validate()...)
	ps = append(ps, prefix("tiers", c.Tiers.Validate())...)
	ps = append(ps, prefix("candidates", c.Candidates.Validate())...)
	ps = append(ps, prefix("alerts", c.Alerts.Validate())...)
	ps = append(ps, prefix("review", c.Review.Validate())...)
	ps = append(ps, prefix("service", c.Service.Validate())...)

	names := map[string]int{}
	for i, s := range c.Sources {
		p := fmt.Sprintf("sources[%d]", i)
		if j, dup := names[s.Name]; dup && s.Name != "" {
			add(p+".name", "%q is already the name of sources[%d]", s.Name, j)
		}
		names[s.Name] = i
		ps = append(ps, prefix(p, s.Validate())...)
	}
	return ps
}

// Validate checks one source on its own.
func (s *Source) Validate() []Problem {
	var ps []Problem
	add := func(path, format string, args ...any) {
		ps = append(ps, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	if !sourceName.MatchString(s.Name) {
		add("name", "must be 1-64 characters of a-z, 0-9, '-', '_' or '.', starting with a letter or digit; got %q", s.Name)
	}
	if !sourceTypes[s.Type] {
		add("type", "unknown source type %q (want feed, page, sam_opportunities, sam_awards, usaspending, federal_register or fpds_atom)", s.Type)
	}
	if s.URL == "" {
		add("url", "must be set")
	} else if u, err := url.Parse(s.URL); err != nil {
		// The *url.Error repeats the URL, which may carry a key in its
		// query string; report only the cause.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		add("url", "not a URL: %v", err)
	} else {
		switch u.Scheme {
		case "http", "https":
			if u.Host == "" {
				add("url", "has no host")
			}
		case "file":
		default:
			add("url", "scheme must be http, https or file, not %q", u.Scheme)
		}
	}
	if err := CheckSchedule(s.Schedule); err != nil {
		add("schedule", "%v", err)
	}
	if s.DailyBudget < 0 {
		add("daily_budget", "must not be negative")
	}
	if s.Tier != 0 && !s.Tier.Valid() {
		add("tier", "must be 1, 2 or 3, not %d", s.Tier)
	}
	if s.Type != model.SourceFeed && sourceTypes[s.Type] {
		q := s.QueryValue()
		ps = append(ps, prefix("query", q.Validate(s.Type, s.URL))...)
	}
	if s.Type == model.SourceFeed && s.Query != nil {
		add("query", "feed sources take no query; it is for procurement, register and page sources")
	}
	return ps
}

// Validate checks the fetch section.
func (f Fetch) Validate() []Problem {
	var ps []Problem
	positive := func(path string, d time.Duration) {
		if d <= 0 {
			ps = append(ps, Problem{Path: path, Msg: fmt.Sprintf("must be positive, not %s", d)})
		}
	}
	positive("timeout", f.Timeout)
	positive("connect_timeout", f.ConnectTimeout)
	positive("backoff_base", f.BackoffBase)
	positive("backoff_max", f.BackoffMax)
	if f.BackoffMax < f.BackoffBase {
		ps = append(ps, Problem{Path: "backoff_max", Msg: "must not be less than backoff_base"})
	}
	if f.HostGap < 0 {
		ps = append(ps, Problem{Path: "host_gap", Msg: "must not be negative"})
	}
	if f.Jitter < 0 {
		ps = append(ps, Problem{Path: "jitter", Msg: "must not be negative"})
	}
	if f.MaxBytes < 1024 {
		ps = append(ps, Problem{Path: "max_bytes", Msg: fmt.Sprintf("must be at least 1024, not %d", f.MaxBytes)})
	}
	if f.MaxRedirects < 0 || f.MaxRedirects > 20 {
		ps = append(ps, Problem{Path: "max_redirects", Msg: fmt.Sprintf("must be 0-20, not %d", f.MaxRedirects)})
	}
	if f.Concurrency < 1 || f.Concurrency > 256 {
		ps = append(ps, Problem{Path: "concurrency", Msg: fmt.Sprintf("must be 1-256, not %d", f.Concurrency)})
	}
	return ps
}

// Validate checks the retention section.
func (r Retention) Validate() []Problem {
	var ps []Problem
	for _, f := range []struct {
		path string
		d    time.Duration
	}{{"items", r.Items}, {"seen", r.Seen}, {"decisions", r.Decisions}} {
		if f.d < 0 {
			ps = append(ps, Problem{Path: f.path, Msg: "must not be negative"})
		}
	}
	if r.Seen > 0 && r.Seen < 7*24*time.Hour {
		ps = append(ps, Problem{Path: "seen", Msg: "below 168h would let items that stay in a feed for a week come back as new"})
	}
	return ps
}

// ScheduleParser parses the schedules tierwatch accepts: five-field cron
// specs, optionally with CRON_TZ=, and descriptors such as "@every 30m".
var ScheduleParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule parses spec, turning the parser's panics into errors:
// robfig/cron v3.0.1 panics on some specs (a bare "CRON_TZ=…" indexes past
// the end of the fields).
func ParseSchedule(spec string) (sched cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("invalid schedule %q", spec)
		}
	}()
	sched, err = ScheduleParser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("invalid schedule %q: %v", spec, err)
	}
	return sched, nil
}

// CheckSchedule reports whether spec parses; "" is allowed (default).
func CheckSchedule(spec string) error {
	if spec == "" {
		return nil
	}
	_, err := ParseSchedule(spec)
	return err
}
