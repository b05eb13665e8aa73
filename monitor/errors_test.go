package monitor

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

// TestClassifyEveryStatus runs every status code 100..599 through Classify
// and checks it against the policy written out independently here.
func TestClassifyEveryStatus(t *testing.T) {
	want := func(code int) model.ErrorClass {
		switch {
		case code >= 200 && code < 300, code == 304:
			return ""
		case code == 429:
			return model.ClassRateLimited
		case code == 401 || code == 403 || code == 407:
			return model.ClassAuth
		case code == 408:
			return model.ClassTimeout
		case code == 425:
			return model.ClassHTTPStatus
		case code >= 400 && code < 500:
			return model.ClassPermanent
		default: // 1xx, other 3xx, 5xx
			return model.ClassHTTPStatus
		}
	}
	counts := map[model.ErrorClass]int{}
	for code := 100; code <= 599; code++ {
		got := Classify(code)
		if got != want(code) {
			t.Errorf("Classify(%d) = %q, want %q", code, got, want(code))
		}
		counts[got]++
	}
	// 2xx and 304 succeed; 4xx minus 401/403/407/408/425/429 are permanent;
	// 1xx, 3xx but 304, 5xx and 425 are http_status.
	wantCounts := map[model.ErrorClass]int{"": 101, model.ClassRateLimited: 1, model.ClassAuth: 3,
		model.ClassTimeout: 1, model.ClassPermanent: 94, model.ClassHTTPStatus: 300}
	for c, n := range wantCounts {
		if counts[c] != n {
			t.Errorf("%d codes classed %q, want %d", counts[c], c, n)
		}
	}
	for _, code := range []int{0, 99, 600, 999, -1} {
		if got := Classify(code); got != model.ClassHTTPStatus {
			t.Errorf("Classify(%d) = %q, want http_status", code, got)
		}
	}
}

func TestBackoff(t *testing.T) {
	const base, max = time.Minute, time.Hour
	fixed := func(f float64) func() float64 { return func() float64 { return f } }
	tests := []struct {
		name       string
		n          int
		base, max  time.Duration
		retryAfter time.Duration
		rnd        func() float64
		want       time.Duration
	}{
		{"no errors", 0, base, max, 0, fixed(0.5), 0},
		{"no errors honours retry-after", 0, base, max, 30 * time.Second, fixed(0.5), 30 * time.Second},
		{"first error low jitter", 1, base, max, 0, fixed(0), 30 * time.Second},
		{"first error high jitter", 1, base, max, 0, fixed(0.999999), time.Minute - 60*time.Microsecond},
		{"third error mid jitter", 3, base, max, 0, fixed(0.5), 3 * time.Minute},
		{"capped", 10, base, max, 0, fixed(0), 30 * time.Minute},
		{"capped high", 10, base, max, 0, fixed(0.5), 45 * time.Minute},
		{"overflowing shift stays capped", 1000, base, max, 0, fixed(0), 30 * time.Minute},
		{"retry-after beats backoff", 1, base, max, 2 * time.Hour, fixed(0.5), 2 * time.Hour},
		{"retry-after below backoff ignored", 3, base, max, time.Second, fixed(0), 2 * time.Minute},
		{"bad random clamped", 2, base, max, 0, fixed(7), 90 * time.Second},
		{"NaN random clamped", 2, base, max, 0, fixed(nanFloat()), 90 * time.Second},
		{"max below base", 3, time.Minute, time.Second, 0, fixed(0), 30 * time.Second},
		{"zero base", 3, 0, max, 5 * time.Second, fixed(0), 5 * time.Second},
		{"negative retry-after", 0, base, max, -time.Second, fixed(0), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Backoff(tt.n, tt.base, tt.max, tt.retryAfter, tt.rnd)
			if d := got - tt.want; d < -time.Millisecond || d > time.Millisecond {
				t.Errorf("Backoff(%d, %v, %v, %v) = %v, want %v", tt.n, tt.base, tt.max, tt.retryAfter, got, tt.want)
			}
		})
	}
	t.Run("default random stays in range", func(t *testing.T) {
		for n := 1; n <= 8; n++ {
			c := min(base<<(n-1), max)
			if got := Backoff(n, base, max, 0, nil); got < c/2 || got > c {
				t.Errorf("Backoff(%d) = %v, want within [%v, %v]", n, got, c/2, c)
			}
		}
	})
}

func nanFloat() float64 {
	z := 0.0
	return z / z
}

func TestRedactURL(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "https://example.com/feed?page=2", "https://example.com/feed?page=2"},
		{"userinfo", "https://bob:hunter2@example.com/feed", "https://example.com/feed"},
		{"api_key", "https://api.sam.gov/x?api_key=abc&limit=10", "https://api.sam.gov/x?api_key=REDACTED&limit=10"},
		{"mixed case names", "https://x.test/?ApiKey=1&TOKEN=2&Key=3", "https://x.test/?ApiKey=REDACTED&TOKEN=REDACTED&Key=REDACTED"},
		{"secret password signature access_token", "https://x.test/?secret=1&password=2&signature=3&access_token=4",
			"https://x.test/?secret=REDACTED&password=REDACTED&signature=REDACTED&access_token=REDACTED"},
		{"suffix key and aws signature", "https://x.test/?subscription-key=1&X-Amz-Signature=2&monkey=3",
			"https://x.test/?subscription-key=REDACTED&X-Amz-Signature=REDACTED&monkey=3"},
		{"escaped name", "https://x.test/?api%5Fkey=1", "https://x.test/?api%5Fkey=REDACTED"},
		{"valueless flag kept", "https://x.test/?token", "https://x.test/?token"},
		{"fragment dropped", "https://x.test/cb#access_token=abc", "https://x.test/cb"},
		{"unparsable", "http://[::1%zz/x?key=1", "(unparsable url)"},
		{"file url", "file:///srv/feeds/a.xml", "file:///srv/feeds/a.xml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RedactURL(tt.in); got != tt.want {
				t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFetchErrorFormat(t *testing.T) {
	cause := io.ErrUnexpectedEOF
	tests := []struct {
		name string
		err  *FetchError
		want string
	}{
		{"full", &FetchError{Source: "sam", URL: "https://x.test/?api_key=REDACTED", Class: model.ClassRateLimited,
			Status: 429, RetryAfter: 2 * time.Minute},
			"fetch source sam https://x.test/?api_key=REDACTED: rate_limited: status 429 Too Many Requests (retry after 2m0s)"},
		{"cause only", &FetchError{Class: model.ClassParse, Err: cause}, "fetch: parse: unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
	wrapped := fmt.Errorf("poll: %w", &FetchError{Class: model.ClassParse, Err: cause})
	if !errors.Is(wrapped, io.ErrUnexpectedEOF) || ErrorClassOf(wrapped) != model.ClassParse {
		t.Errorf("Unwrap/ErrorClassOf broken for %v", wrapped)
	}
	if ErrorClassOf(nil) != "" || ErrorClassOf(io.EOF) != model.ClassNetwork {
		t.Errorf("ErrorClassOf defaults wrong")
	}
}
