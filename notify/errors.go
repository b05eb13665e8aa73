package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

// DeliveryError is a failed delivery to one destination. Class says how the
// dispatcher retries it; Status is the HTTP status (0 when no response
// arrived); RetryAfter is the receiver's Retry-After, 0 when absent. Err
// never contains the destination URL.
type DeliveryError struct {
	Dest       string
	Class      model.ErrorClass
	Status     int
	RetryAfter time.Duration
	Err        error
}

func (e *DeliveryError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "deliver to %s: %s", e.Dest, e.Class)
	if e.Status != 0 {
		fmt.Fprintf(&b, " (status %d)", e.Status)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// IsGone reports whether the receiver said the destination no longer exists
// (HTTP 410, Slack's channel_is_archived): the dispatcher disables it.
func (e *DeliveryError) IsGone() bool { return e.Status == http.StatusGone }

// IsRetryable reports whether the dispatcher should try again later:
// network errors, timeouts, 5xx and rate limits are; auth and other 4xx are
// not (they need an operator, so the record goes to the dead letters).
func (e *DeliveryError) IsRetryable() bool {
	switch e.Class {
	case model.ClassNetwork, model.ClassTimeout, model.ClassHTTPStatus, model.ClassRateLimited, model.ClassTooLarge, model.ClassStorage:
		return true
	}
	return false
}

// Classify maps a receiver's HTTP answer to an error class; "" means
// success (2xx). 429 and 503 are rate limits (the caller honours
// Retry-After); other 5xx, 1xx and 3xx (the client does not follow
// redirects) are retried with backoff; 401 and 403 are auth; 408 is a
// timeout; 410 and every other 4xx are permanent. A 4xx whose body is
// Slack's "ratelimited"/"rate_limited" is a rate limit too. body may be
// empty; only its trimmed text is inspected.
func Classify(status int, body string) model.ErrorClass {
	switch b := strings.TrimSpace(body); {
	case status >= 200 && status <= 299:
		return ""
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		return model.ClassRateLimited
	case status >= 400 && status <= 499 && (b == "ratelimited" || b == "rate_limited"):
		return model.ClassRateLimited
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return model.ClassAuth
	case status == http.StatusRequestTimeout:
		return model.ClassTimeout
	case status == http.StatusRequestEntityTooLarge:
		return model.ClassPermanent // the same body will be too large again
	case status >= 400 && status <= 499:
		return model.ClassPermanent
	}
	return model.ClassHTTPStatus
}

// classifyTransport classifies an error from http.Client.Do.
func classifyTransport(err error) model.ErrorClass {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return model.ClassTimeout
	}
	return model.ClassNetwork
}

// Redact returns err with the secrets removed from its text: a *url.Error
// anywhere in the chain has its URL replaced, and every non-empty secret
// (a webhook URL, its path, a signing key) is cut out of the message. The
// result still unwraps to err's causes (context.Canceled, net errors), with
// *url.Error values rebuilt without their URL. Redact(nil) is nil.
func Redact(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// Rebuild the url.Error so that unwrapping it cannot reveal the URL.
		err = &url.Error{Op: ue.Op, URL: "[redacted url]", Err: Redact(ue.Err, secrets...)}
	}
	msg := err.Error()
	for _, s := range secrets {
		if len(s) >= 4 { // shorter strings would mangle ordinary text
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return &redactedError{msg: msg, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// urlSecrets returns the parts of a destination URL that must not be shown:
// the whole URL, and its path and query (Slack puts the token in the path).
func urlSecrets(raw string) []string {
	out := []string{raw}
	if u, err := url.Parse(raw); err == nil {
		if len(u.Path) > 1 {
			out = append(out, u.Path, u.EscapedPath())
		}
		if u.RawQuery != "" {
			out = append(out, u.RawQuery)
		}
		if u.User != nil {
			out = append(out, u.User.String())
		}
	}
	return out
}
