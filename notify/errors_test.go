package notify

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

// TestClassifyEveryStatus runs every status code 100..599 through Classify.
func TestClassifyEveryStatus(t *testing.T) {
	want := func(s int) model.ErrorClass {
		switch {
		case s >= 200 && s <= 299:
			return ""
		case s == 429 || s == 503:
			return model.ClassRateLimited
		case s == 401 || s == 403:
			return model.ClassAuth
		case s == 408:
			return model.ClassTimeout
		case s >= 400 && s <= 499:
			return model.ClassPermanent
		}
		return model.ClassHTTPStatus // 1xx, 3xx, 5xx
	}
	for s := 100; s <= 599; s++ {
		if got := Classify(s, ""); got != want(s) {
			t.Errorf("Classify(%d) = %q, want %q", s, got, want(s))
		}
	}
	tests := []struct {
		name   string
		status int
		body   string
		want   model.ErrorClass
	}{
		{"slack ok", 200, "ok", ""},
		{"slack invalid_payload", 400, "invalid_payload", model.ClassPermanent},
		{"slack action_prohibited", 403, "action_prohibited", model.ClassAuth},
		{"slack no_service", 404, "no_service", model.ClassPermanent},
		{"slack channel_is_archived", 410, "channel_is_archived", model.ClassPermanent},
		{"ratelimited body on 400", 400, " ratelimited\n", model.ClassRateLimited},
		{"5xx with body", 502, "bad gateway", model.ClassHTTPStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.status, tt.body); got != tt.want {
				t.Errorf("Classify(%d, %q) = %q, want %q", tt.status, tt.body, got, tt.want)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	secretURL := "https://hooks.slack.com/services/T1/B2/s3cr3tT0ken"
	ue := &url.Error{Op: "Post", URL: secretURL, Err: context.DeadlineExceeded}
	err := Redact(ue, urlSecrets(secretURL)...)
	if strings.Contains(err.Error(), "s3cr3tT0ken") || strings.Contains(err.Error(), "/services/") {
		t.Errorf("Redact left the secret: %q", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Error("Redact lost the cause")
	}
	var got *url.Error
	if !errors.As(err, &got) || strings.Contains(got.URL, "s3cr3t") {
		t.Errorf("unwrapped url.Error still has the URL: %+v", got)
	}
	plain := Redact(errors.New("signing with key whsec_abcdef failed"), "whsec_abcdef")
	if strings.Contains(plain.Error(), "whsec_abcdef") {
		t.Errorf("Redact left the key: %q", plain)
	}
	if Redact(nil) != nil {
		t.Error("Redact(nil) != nil")
	}
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Base: 30 * time.Second, Max: 10 * time.Minute, Jitter: 0.2, Rand: func() float64 { return 0 }}
	tests := []struct {
		attempt int
		want    time.Duration
	}{{0, 30 * time.Second}, {1, 30 * time.Second}, {2, time.Minute}, {5, 8 * time.Minute}, {6, 10 * time.Minute}, {60, 10 * time.Minute}}
	for _, tt := range tests {
		if got := b.Delay(tt.attempt); got != tt.want {
			t.Errorf("Delay(%d) = %s, want %s", tt.attempt, got, tt.want)
		}
	}
	b.Rand = func() float64 { return 0.5 }
	if got, want := b.Delay(2), 54*time.Second; got != want {
		t.Errorf("jittered Delay(2) = %s, want %s", got, want)
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		name, in string
		n        int
		want     string
	}{
		{"short", "abc", 5, "abc"},
		{"exact", "abcde", 5, "abcde"},
		{"cut", "abcdef", 4, "abc…"},
		{"runes", "ééééé", 3, "éé…"},
		{"zero", "abc", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Truncate(tt.in, tt.n); got != tt.want {
				t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}
