package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

// MaxResponseBody caps how much of a receiver's answer is read: Slack
// answers "ok" or a short error code, webhook receivers a short status.
const MaxResponseBody = 64 << 10

// NewHTTPClient returns the http.Client shared by all notifiers: it does not
// follow redirects (a redirected POST is a misconfigured destination, and
// redirect errors would quote the secret URL) and bounds connection setup.
// Per-request deadlines come from the Request's Timeout.
func NewHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = 10 * time.Second
	tr.ResponseHeaderTimeout = 30 * time.Second
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Request is one POST to a destination.
type Request struct {
	Dest    string        // destination name, for errors
	URL     string        // secret: never logged or quoted
	Header  http.Header   // extra headers (signatures)
	Body    []byte        // JSON
	Timeout time.Duration // whole attempt; 0 = no extra deadline
	// Secrets are more strings to cut out of errors (signing keys).
	Secrets []string
}

// Receipt is what a receiver answered to an accepted delivery.
type Receipt struct {
	Status int
	Body   string // at most MaxResponseBody bytes
}

// Post sends req with hc and classifies the answer. It returns a *DeliveryError
// for any failure (transport error, timeout, non-2xx), whose text never
// contains req.URL or req.Secrets. A Receipt is returned with the status and
// body even on HTTP failure, for `tierwatch notify test`.
func Post(ctx context.Context, hc *http.Client, now func() time.Time, req Request) (Receipt, error) {
	secrets := append(urlSecrets(req.URL), req.Secrets...)
	fail := func(class model.ErrorClass, status int, err error) error {
		return &DeliveryError{Dest: req.Dest, Class: class, Status: status, Err: Redact(err, secrets...)}
	}
	if req.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, req.Timeout,
			fmt.Errorf("deliver to %s: no answer within %s: %w", req.Dest, req.Timeout, context.DeadlineExceeded))
		defer cancel()
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return Receipt{}, fail(model.ClassPermanent, 0, fmt.Errorf("build request: %w", err))
	}
	for k, vs := range req.Header {
		hr.Header[k] = vs
	}
	if hr.Header.Get("Content-Type") == "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	hr.Header.Set("User-Agent", "tierwatch-notify")
	resp, err := hc.Do(hr)
	if err != nil {
		if c := context.Cause(ctx); c != nil && errors.Is(c, context.DeadlineExceeded) && ctx.Err() != nil {
			return Receipt{}, fail(model.ClassTimeout, 0, c)
		}
		return Receipt{}, fail(classifyTransport(err), 0, err)
	}
	defer resp.Body.Close()
	// A body cut short by a reset does not change what the status says;
	// classify on whatever part arrived.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody))
	rc := Receipt{Status: resp.StatusCode, Body: strings.ToValidUTF8(string(body), "\uFFFD")}
	class := Classify(resp.StatusCode, rc.Body)
	if class == "" {
		return rc, nil
	}
	msg := Truncate(strings.TrimSpace(rc.Body), 200)
	de := fail(class, resp.StatusCode, fmt.Errorf("receiver answered %d %q", resp.StatusCode, msg)).(*DeliveryError)
	if class == model.ClassRateLimited {
		de.RetryAfter = model.ParseRetryAfter(resp.Header.Get("Retry-After"), now())
	}
	return rc, de
}
