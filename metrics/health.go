package metrics

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Check is one readiness condition: Fn returns nil when it holds. Fn gets
// a context bounded by the handler's timeout and must return by then.
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// checkTimeout bounds each readiness check, well under Prometheus' and
// load balancers' usual 10s probe timeouts.
const checkTimeout = 3 * time.Second

// HealthHandler answers liveness: 200 "ok" while the process serves HTTP.
// It checks nothing else on purpose, so a slow store never gets a live
// process killed by its supervisor; readiness is ReadyHandler's job.
func HealthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintln(w, "ok")
	})
}

// ReadyHandler answers readiness: 200 "ok" when every check passes,
// otherwise 503 with one "name: error" line per failing check. Checks run
// in order, each under its own timeout.
func ReadyHandler(checks ...Check) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var failed []string
		for _, c := range checks {
			ctx, cancel := context.WithTimeoutCause(r.Context(), checkTimeout,
				fmt.Errorf("check %s: took longer than %s", c.Name, checkTimeout))
			err := c.Fn(ctx)
			cancel()
			if err != nil {
				failed = append(failed, c.Name+": "+err.Error())
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if len(failed) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, strings.Join(failed, "\n"))
			return
		}
		fmt.Fprintln(w, "ok")
	})
}

// Mux returns a ServeMux with /metrics, /healthz and /readyz; callers may
// add more routes to it.
func (m *Metrics) Mux(checks ...Check) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.MetricsHandler())
	mux.Handle("GET /healthz", HealthHandler())
	mux.Handle("GET /readyz", ReadyHandler(checks...))
	return mux
}
