package notifytest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Delivery is one request a Receiver accepted.
type Delivery struct {
	ID        string    // webhook-id
	Timestamp int64     // webhook-timestamp
	Type      string    // the body's "type"
	Body      []byte    // raw body
	At        time.Time // receiver clock at arrival
}

// ReceiverOptions script a Receiver.
type ReceiverOptions struct {
	// FailFirst requests (valid or not) are answered FailStatus (default
	// 503) with RetryAfter, if set, as Retry-After.
	FailFirst  int
	FailStatus int
	RetryAfter string
	// Now is the receiver's clock for the timestamp tolerance check
	// (5 minutes, as Standard Webhooks recommends); default time.Now.
	Now func() time.Time
}

// Receiver is a webhook endpoint that verifies both signatures
// (Standard Webhooks webhook-signature with the whsec_-decoded key, and
// X-Hub-Signature-256 keyed with the secret as written) and the timestamp,
// answers 401 to a bad one, and dedupes on webhook-id: a repeated id is
// answered 200 but not recorded again.
type Receiver struct {
	URL string

	secret string
	opts   ReceiverOptions

	mu       sync.Mutex // guards the fields below
	requests int
	attempts []time.Time
	got      []Delivery
	seen     map[string]bool
	dups     int
	rejected []string
}

// NewReceiver starts a Receiver for secret, closed when t ends.
func NewReceiver(t testing.TB, secret string, o ReceiverOptions) *Receiver {
	if o.FailStatus == 0 {
		o.FailStatus = http.StatusServiceUnavailable
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	r := &Receiver{secret: secret, opts: o, seen: map[string]bool{}}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	r.URL = srv.URL + "/hooks/tierwatch-secret-path"
	return r
}

// ServeHTTP implements http.Handler.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	now := r.opts.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	r.attempts = append(r.attempts, now)
	if r.requests <= r.opts.FailFirst {
		if r.opts.RetryAfter != "" {
			w.Header().Set("Retry-After", r.opts.RetryAfter)
		}
		http.Error(w, "down for maintenance", r.opts.FailStatus)
		return
	}
	if reason := r.verify(req.Header, body, now); reason != "" {
		r.rejected = append(r.rejected, reason)
		http.Error(w, reason, http.StatusUnauthorized)
		return
	}
	id := req.Header.Get("webhook-id")
	if r.seen[id] {
		r.dups++
		w.WriteHeader(http.StatusOK)
		return
	}
	var env struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		r.rejected = append(r.rejected, "body is not JSON")
		http.Error(w, "body is not JSON", http.StatusBadRequest)
		return
	}
	r.seen[id] = true
	ts, _ := strconv.ParseInt(req.Header.Get("webhook-timestamp"), 10, 64) // verify checked it
	r.got = append(r.got, Delivery{ID: id, Timestamp: ts, Type: env.Type, Body: body, At: now})
	w.WriteHeader(http.StatusNoContent)
}

// verify returns why the request is not authentic, "" when it is.
func (r *Receiver) verify(h http.Header, body []byte, now time.Time) string {
	id, tsText, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || tsText == "" || sigs == "" {
		return "missing webhook-id, webhook-timestamp or webhook-signature"
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return "bad webhook-timestamp"
	}
	if d := now.Sub(time.Unix(ts, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return "webhook-timestamp outside tolerance"
	}
	key := []byte(r.secret)
	if rest, ok := strings.CutPrefix(r.secret, "whsec_"); ok {
		if key, err = base64.StdEncoding.DecodeString(rest); err != nil {
			return "receiver secret is not whsec_<base64>"
		}
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + tsText + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	ok := false
	for _, s := range strings.Fields(sigs) {
		v, b64, found := strings.Cut(s, ",")
		if !found || v != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			ok = true
		}
	}
	if !ok {
		return "webhook-signature does not match"
	}
	hub := hmac.New(sha256.New, []byte(r.secret))
	hub.Write(body)
	if h.Get("X-Hub-Signature-256") != "sha256="+hex.EncodeToString(hub.Sum(nil)) {
		return "X-Hub-Signature-256 does not match"
	}
	return ""
}

// Deliveries returns the accepted, deduplicated deliveries in arrival order.
func (r *Receiver) Deliveries() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Delivery(nil), r.got...)
}

// Attempts returns the receiver-clock time of every request, failed ones
// included.
func (r *Receiver) Attempts() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.attempts...)
}

// Duplicates returns how many requests repeated an accepted webhook-id.
func (r *Receiver) Duplicates() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dups
}

// Rejected returns why requests failed verification.
func (r *Receiver) Rejected() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.rejected...)
}
