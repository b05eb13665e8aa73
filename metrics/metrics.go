// Package metrics exposes tierwatch's Prometheus metrics and its health
// endpoints. Everything lives in one private registry owned by a Metrics
// value (never the global default registry), so tests and several daemons
// in one process do not share counters.
//
// Poll and ingest figures are pushed in by the daemon as they happen
// (ObserveFetch, ObserveIngest). Store figures (candidates by status,
// outbox depth, dead letters) are read from the store when scraped, through
// functions the daemon supplies, and reused for Options.MinInterval so a
// scrape storm cannot turn into a stream of store scans.
//
// Label cardinality is bounded by the config: source and rule labels come
// from configured names, result labels from a fixed set of error classes.
package metrics

import (
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ResultOK is the result label of a successful fetch; failures carry their
// error class (model.ErrorClass) instead.
const ResultOK = "ok"

// Options supplies the store figures read at scrape time. A nil function
// leaves its series out.
type Options struct {
	// Candidates counts candidates by status.
	Candidates func() (map[string]int, error)
	// Outbox counts pending and dead outbox records.
	Outbox func() (pending, dead int, err error)
	// MinInterval is how long store figures are reused between scrapes;
	// default 10s. Prometheus scrapes every 15-60s, so a scrape normally
	// reads fresh figures.
	MinInterval time.Duration
	// Now is the clock of that cache; default time.Now.
	Now func() time.Time
}

// Metrics holds tierwatch's collectors. Its methods are safe for
// concurrent use.
type Metrics struct {
	reg           *prometheus.Registry
	fetches       *prometheus.CounterVec
	fetchDuration *prometheus.HistogramVec
	items         *prometheus.CounterVec
	matches       *prometheus.CounterVec
	lastSuccess   *prometheus.GaugeVec
	log           *slog.Logger
}

// New registers tierwatch's collectors, the Go runtime's and the process's
// in a fresh registry.
func New(opts Options, log *slog.Logger) *Metrics {
	if opts.MinInterval <= 0 {
		opts.MinInterval = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tierwatch_fetches_total",
			Help: "Polls of a source, by source and result (ok or the error class).",
		}, []string{"source", "result"}),
		// No source label: 2,000 sources × 11 buckets would be 22,000
		// series for one histogram. Per-source trouble shows in fetches_total.
		fetchDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tierwatch_fetch_duration_seconds",
			Help:    "Duration of one poll of a source (fetch, decode, normalise), by result.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"result"}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tierwatch_items_total",
			Help: "Items a source yielded, by source and state: new (first time seen) or seen (already known).",
		}, []string{"source", "state"}),
		matches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tierwatch_matches_total",
			Help: "New items matched, by watch rule.",
		}, []string{"rule"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tierwatch_source_last_success_timestamp_seconds",
			Help: "Unix time of the last successful poll of a source.",
		}, []string{"source"}),
		log: log,
	}
	m.reg.MustRegister(m.fetches, m.fetchDuration, m.items, m.matches, m.lastSuccess,
		&storeCollector{opts: opts, log: log},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveFetch records one poll of source: result is ResultOK or the error
// class, d its duration. A successful poll sets the source's last success
// time to at.
func (m *Metrics) ObserveFetch(source, result string, d time.Duration, at time.Time) {
	m.fetches.WithLabelValues(source, result).Inc()
	m.fetchDuration.WithLabelValues(result).Observe(d.Seconds())
	if result == ResultOK {
		m.SetLastSuccess(source, at)
	}
}

// SetLastSuccess sets a source's last success time, as at start-up from
// stored state. A zero time is ignored (never succeeded: no series).
func (m *Metrics) SetLastSuccess(source string, at time.Time) {
	if at.IsZero() {
		return
	}
	m.lastSuccess.WithLabelValues(source).Set(float64(at.UnixNano()) / 1e9)
}

// ObserveIngest records one ingest of source: items yielded, how many of
// them were new, and the new items matched by each rule.
func (m *Metrics) ObserveIngest(source string, items, new int, matched map[string]int) {
	if items < new || new < 0 {
		return // not a real ingest; counters must not go backwards
	}
	m.items.WithLabelValues(source, "new").Add(float64(new))
	m.items.WithLabelValues(source, "seen").Add(float64(items - new))
	for rule, n := range matched {
		if n > 0 {
			m.matches.WithLabelValues(rule).Add(float64(n))
		}
	}
}

// storeCollector reads store figures at scrape time, reusing them for
// MinInterval.
type storeCollector struct {
	opts Options
	log  *slog.Logger

	mu      sync.Mutex // guards the cache below
	at      time.Time
	cached  []prometheus.Metric
	lastErr error
}

var (
	descCandidates = prometheus.NewDesc("tierwatch_candidates",
		"Candidates in the store, by review status.", []string{"status"}, nil)
	descOutboxPending = prometheus.NewDesc("tierwatch_outbox_pending",
		"Alerts waiting in the outbox (the outbox depth).", nil, nil)
	descOutboxDead = prometheus.NewDesc("tierwatch_outbox_dead",
		"Alerts out of retries: dead letters an operator must look at.", nil, nil)
	descStoreUp = prometheus.NewDesc("tierwatch_store_read_ok",
		"1 when the last scrape-time read of the store succeeded, else 0.", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descCandidates
	ch <- descOutboxPending
	ch <- descOutboxDead
	ch <- descStoreUp
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.opts.Now()
	if c.cached == nil || now.Sub(c.at) >= c.opts.MinInterval || now.Before(c.at) {
		c.cached, c.lastErr = c.read()
		c.at = now
		if c.lastErr != nil {
			c.log.Warn("read store for metrics", "err", c.lastErr)
		}
	}
	for _, m := range c.cached {
		ch <- m
	}
}

// read builds the store series; on an error it returns what it could read
// plus tierwatch_store_read_ok 0.
func (c *storeCollector) read() ([]prometheus.Metric, error) {
	var out []prometheus.Metric
	var firstErr error
	if c.opts.Candidates != nil {
		counts, err := c.opts.Candidates()
		if err != nil {
			firstErr = err
		}
		for status, n := range counts {
			out = append(out, prometheus.MustNewConstMetric(descCandidates, prometheus.GaugeValue, float64(n), status))
		}
	}
	if c.opts.Outbox != nil {
		pending, dead, err := c.opts.Outbox()
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
		} else {
			out = append(out,
				prometheus.MustNewConstMetric(descOutboxPending, prometheus.GaugeValue, float64(pending)),
				prometheus.MustNewConstMetric(descOutboxDead, prometheus.GaugeValue, float64(dead)))
		}
	}
	up := 1.0
	if firstErr != nil {
		up = 0
	}
	return append(out, prometheus.MustNewConstMetric(descStoreUp, prometheus.GaugeValue, up)), firstErr
}

// MetricsHandler serves the registry in the Prometheus text and
// OpenMetrics formats.
func (m *Metrics) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(m.log.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.reg, // promhttp_metric_handler_errors_total
	})
}
