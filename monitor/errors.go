package monitor

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

// FetchError is the error of one fetch or parse. Class says how to retry;
// Status and RetryAfter carry what the server said. URL is always redacted
// (see RedactURL), and Err never holds a *url.Error, so printing a FetchError
// cannot leak a secret carried in the source URL.
type FetchError struct {
	Source     string           // configured source name; may be empty
	URL        string           // redacted URL of the request
	Class      model.ErrorClass // never empty
	Status     int              // HTTP status, 0 when no response was read
	RetryAfter time.Duration    // from Retry-After, capped at model.MaxRetryAfter; 0 when absent
	Err        error            // the cause; may be nil when Status says it all
}

// Error renders "fetch source NAME URL: CLASS: cause".
func (e *FetchError) Error() string {
	var b strings.Builder
	b.WriteString("fetch")
	if e.Source != "" {
		b.WriteString(" source ")
		b.WriteString(e.Source)
	}
	if e.URL != "" {
		b.WriteString(" ")
		b.WriteString(e.URL)
	}
	b.WriteString(": ")
	b.WriteString(string(e.Class))
	if e.Status != 0 {
		fmt.Fprintf(&b, ": status %d %s", e.Status, http.StatusText(e.Status))
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *FetchError) Unwrap() error { return e.Err }

// ErrorClassOf returns the class of the first *FetchError in err's chain, or
// ClassNetwork when err is not nil but carries no class (an unknown failure
// is retried with backoff), or "" for a nil err.
func ErrorClassOf(err error) model.ErrorClass {
	if err == nil {
		return ""
	}
	if fe, ok := errors.AsType[*FetchError](err); ok {
		return fe.Class
	}
	return model.ClassNetwork
}

// Classify maps an HTTP status code to the class of failure it signals when
// it ends a fetch. It returns "" for the statuses that are not failures: 2xx
// and 304 Not Modified. 503 is classed http_status here; the fetcher upgrades
// it to rate_limited when the response carries Retry-After. Codes outside
// 100..599 are unexpected and classed http_status.
func Classify(status int) model.ErrorClass {
	switch {
	case status >= 200 && status <= 299, status == http.StatusNotModified:
		return ""
	case status == http.StatusTooManyRequests:
		return model.ClassRateLimited
	case status == http.StatusUnauthorized, status == http.StatusForbidden,
		status == http.StatusProxyAuthRequired:
		return model.ClassAuth
	case status == http.StatusRequestTimeout:
		// RFC 9110 15.5.9: the server gave up waiting; a retry may succeed.
		return model.ClassTimeout
	case status == http.StatusTooEarly:
		// RFC 8470: retrying later is the documented remedy.
		return model.ClassHTTPStatus
	case status >= 400 && status <= 499:
		return model.ClassPermanent
	default:
		// 1xx as a final answer, 3xx we did not follow, 5xx, and anything
		// outside the registry: the server misbehaved, retry with backoff.
		return model.ClassHTTPStatus
	}
}

// Backoff returns how long to wait before polling a source again after
// consecutiveErrors failures in a row. It is capped exponential backoff with
// "equal jitter": the ceiling c = base·2^(n-1), capped at max, and the result
// is c/2 + rnd()·c/2, so a failing source always waits at least half the
// ceiling (it never hammers) while sources that failed together spread out.
// The result is never less than retryAfter (the server's Retry-After), even
// when that exceeds max. rnd returns values in [0,1); nil means math/rand/v2.
// With consecutiveErrors <= 0 or base <= 0 only retryAfter applies.
// Sources are never given up: the caller keeps polling at this pace.
func Backoff(consecutiveErrors int, base, max time.Duration, retryAfter time.Duration, rnd func() float64) time.Duration {
	retryAfter = maxDuration(retryAfter, 0)
	if consecutiveErrors <= 0 || base <= 0 {
		return retryAfter
	}
	if max < base {
		max = base
	}
	ceiling := max
	if shift := consecutiveErrors - 1; shift < 62 {
		if c := base << shift; c > 0 && c>>shift == base && c < max {
			ceiling = c
		}
	}
	if rnd == nil {
		rnd = rand.Float64
	}
	f := rnd()
	if f < 0 || f >= 1 || f != f {
		f = 0.5 // a broken source of randomness still yields a sane delay
	}
	half := ceiling / 2
	d := half + time.Duration(f*float64(ceiling-half))
	return maxDuration(d, retryAfter)
}

func maxDuration(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

// secretParam reports whether a query parameter name looks like it carries a
// credential. Matching is by exact name for short generic names and by
// substring for distinctive ones, case-insensitively.
func secretParam(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "key", "sig", "auth", "pwd", "pass", "code", "jwt":
		return true
	}
	for _, s := range []string{"api_key", "apikey", "api-key", "token", "secret", "signature",
		"password", "passwd", "credential", "session"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return strings.HasSuffix(n, "_key") || strings.HasSuffix(n, "-key")
}

// Redacted replaces a secret's value in RedactURL's output.
const Redacted = "REDACTED"

// RedactURL returns raw with its user info removed and the values of
// secret-looking query parameters (api_key, apikey, key, token, secret,
// signature, password, access_token and similar) replaced by REDACTED. The
// order and spelling of other parameters are kept. A string that does not
// parse as a URL is replaced whole, since it cannot be inspected.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable url)"
	}
	u.User = nil
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			name, _, hasValue := strings.Cut(p, "=")
			if dec, err := url.QueryUnescape(name); err == nil {
				name = dec
			}
			if hasValue && secretParam(name) {
				parts[i] = p[:strings.IndexByte(p, '=')+1] + Redacted
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	if u.Fragment != "" {
		u.Fragment, u.RawFragment = "", "" // fragments sometimes carry OAuth tokens
	}
	return u.String()
}
