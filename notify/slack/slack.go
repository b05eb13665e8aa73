// Package slack posts alerts to Slack incoming webhooks as Block Kit
// messages.
//
// Feed text is untrusted: every string from a feed is cleaned, escaped for
// mrkdwn (&, <, >) and cut to Slack's limits at rune boundaries before it
// is sent. The webhook URL is a secret: it never appears in errors or logs.
// Slack answers 200 "ok"; errors are 400 invalid_payload/no_text,
// 403 action_prohibited, 404 channel_not_found/no_service, 410
// channel_is_archived and 429 with Retry-After (api.slack.com/messaging/webhooks,
// api.slack.com/docs/rate-limits); notify.Classify maps them.
package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/notify"
)

// Notifier posts to one Slack incoming webhook. It is safe for concurrent
// use.
type Notifier struct {
	name      string
	url       string // secret
	timeout   time.Duration
	reviewURL string
	http      *http.Client
	now       func() time.Time
	log       *slog.Logger
}

// New returns the notifier of destination d. It has the notify.Factory
// signature.
func New(d config.Destination, o notify.Options) (notify.Notifier, error) {
	if d.URL.Value() == "" {
		return nil, fmt.Errorf("slack destination %s has no url", d.Name)
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
	if o.ReviewURL == "" {
		o.ReviewURL = config.DefaultReviewURL
	}
	d = d.WithDefaults()
	return &Notifier{
		name: d.Name, url: d.URL.Value(), timeout: d.Timeout, reviewURL: o.ReviewURL,
		http: o.HTTP, now: o.Now, log: o.Log.With("dest", d.Name),
	}, nil
}

// Name returns the destination name.
func (n *Notifier) Name() string { return n.name }

// Send posts m. Failures are *notify.DeliveryError values without the URL.
func (n *Notifier) Send(ctx context.Context, m notify.Message) (notify.Receipt, error) {
	body, err := json.Marshal(render(m, n.reviewURL))
	if err != nil {
		return notify.Receipt{}, &notify.DeliveryError{Dest: n.name, Class: model.ClassPermanent, Err: fmt.Errorf("encode message: %w", err)}
	}
	rc, err := notify.Post(ctx, n.http, n.now, notify.Request{Dest: n.name, URL: n.url, Body: body, Timeout: n.timeout})
	n.log.Debug("slack post", "outbox_id", m.ID(), "status", rc.Status, "bytes", len(body))
	return rc, err
}
