package model

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ErrorClass says what kind of failure an error is, and so how a caller
// should retry it. Monitor and notify each classify their own errors into
// these classes; the class travels inside the error (see monitor.FetchError,
// notify.DeliveryError), not in a separate flag.
type ErrorClass string

const (
	ClassNetwork     ErrorClass = "network"      // connection refused, reset, DNS: retry with backoff
	ClassTimeout     ErrorClass = "timeout"      // connect or total deadline: retry with backoff
	ClassHTTPStatus  ErrorClass = "http_status"  // a 5xx or unexpected status: retry with backoff
	ClassRateLimited ErrorClass = "rate_limited" // 429 or 503 with Retry-After, or a quota: wait as told
	ClassTooLarge    ErrorClass = "too_large"    // body over the size cap: retry later, likely fails again
	ClassParse       ErrorClass = "parse"        // body is not a feed or record we can read
	ClassAuth        ErrorClass = "auth"         // 401/403: needs an operator, retried slowly
	ClassPermanent   ErrorClass = "permanent"    // other 4xx, bad URL: needs an operator, retried slowly
	ClassStorage     ErrorClass = "storage"      // the local store refused a write (disk full, …)
)

// MaxRetryAfter caps a peer's Retry-After: a misconfigured or hostile
// server or receiver must not park a source or an alert for longer than a
// day.
const MaxRetryAfter = 24 * time.Hour

// ParseRetryAfter reads a Retry-After header value (RFC 9110 10.2.3):
// delay-seconds or an HTTP date, taken relative to now. It returns 0 for an
// absent, malformed or past value (the header is advisory) and caps the
// result at MaxRetryAfter. Both monitor (429/503 from sources) and notify
// (429/503 from Slack and webhooks) honour it through this one function.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	} else {
		return 0
	}
	return min(max(d, 0), MaxRetryAfter)
}
