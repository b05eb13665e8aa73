// Package webhook posts alerts as signed JSON to HTTP receivers.
//
// The body is {"type": event, "timestamp": RFC 3339, "data": …} where data
// is the candidate exactly as `tierwatch queue show --json` prints it
// (model.Candidate), a digest's list of candidates and records, or a source
// health record. Requests are signed per the Standard Webhooks spec
// (webhook-id = the outbox record ID, stable across retries so receivers
// dedupe; webhook-timestamp; webhook-signature "v1,<base64>") and with a
// GitHub-style X-Hub-Signature-256. Any 2xx is success; 410 makes the
// dispatcher disable the destination. The URL and secret never appear in
// errors or logs.
package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/notify"
)

// Notifier posts to one webhook receiver. It is safe for concurrent use.
type Notifier struct {
	name    string
	url     string // secret
	secret  string // secret
	key     []byte
	timeout time.Duration
	http    *http.Client
	now     func() time.Time
	log     *slog.Logger
}

// New returns the notifier of destination d. It has the notify.Factory
// signature.
func New(d config.Destination, o notify.Options) (notify.Notifier, error) {
	if d.URL.Value() == "" {
		return nil, fmt.Errorf("webhook destination %s has no url", d.Name)
	}
	if d.Secret.Value() == "" {
		return nil, fmt.Errorf("webhook destination %s has no signing secret", d.Name)
	}
	key, err := Key(d.Secret.Value())
	if err != nil {
		return nil, fmt.Errorf("webhook destination %s: %w", d.Name, err)
	}
	if o.HTTP == nil {
		o.HTTP = notify.NewHTTPClient()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	d = d.WithDefaults()
	return &Notifier{
		name: d.Name, url: d.URL.Value(), secret: d.Secret.Value(), key: key, timeout: d.Timeout,
		http: o.HTTP, now: o.Now, log: o.Log.With("dest", d.Name),
	}, nil
}

// Name returns the destination name.
func (n *Notifier) Name() string { return n.name }

// Envelope is the JSON body of every webhook request.
type Envelope struct {
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"` // RFC 3339, when the alert was created
	Data      any    `json:"data"`
}

// Digest is the data of a "digest" request.
type Digest struct {
	Candidates []model.Candidate    `json:"candidates"`
	Records    []model.OutboxRecord `json:"records"`
}

// EventDigest is the type of a digest request.
const EventDigest = "digest"

// Body returns the JSON body for m: stable for one message, so a retry
// sends the same bytes (only webhook-timestamp and the signatures change).
func Body(m notify.Message) ([]byte, error) {
	env := Envelope{Type: m.Record.Event, Timestamp: m.Record.CreatedAt.UTC().Format(time.RFC3339)}
	switch {
	case len(m.Records) > 1:
		env.Type = EventDigest
		env.Data = Digest{Candidates: m.Digest, Records: m.Records}
	case m.Candidate != nil:
		env.Data = m.Candidate
	default:
		env.Data = m.Record
	}
	b, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", env.Type, err)
	}
	return b, nil
}

// Send posts m, signed. Failures are *notify.DeliveryError values.
func (n *Notifier) Send(ctx context.Context, m notify.Message) (notify.Receipt, error) {
	body, err := Body(m)
	if err != nil {
		return notify.Receipt{}, &notify.DeliveryError{Dest: n.name, Class: model.ClassPermanent, Err: err}
	}
	id := m.ID()
	ts := n.now().Unix()
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	h.Set("webhook-signature", Sign(n.key, id, ts, body))
	h.Set("X-Hub-Signature-256", SignHub(n.secret, body))
	rc, err := notify.Post(ctx, n.http, n.now, notify.Request{
		Dest: n.name, URL: n.url, Header: h, Body: body, Timeout: n.timeout, Secrets: []string{n.secret},
	})
	n.log.Debug("webhook post", "outbox_id", id, "status", rc.Status, "bytes", len(body))
	return rc, err
}
