package notify

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
)

// Notifier delivers one message to one destination. Send returns a
// *DeliveryError on failure (its class drives retries) and must be safe to
// call again with the same message: receivers dedupe on Message.ID.
// Implementations are safe for concurrent use.
type Notifier interface {
	Name() string
	Send(ctx context.Context, m Message) (Receipt, error)
}

// Message is what one delivery carries.
type Message struct {
	// Record is the outbox record being delivered; for a digest, the first
	// (lowest sequence) of Records.
	Record model.OutboxRecord
	// Candidate is the record's candidate; nil for source health events
	// (then Record.Source and Record.Detail say what happened).
	Candidate *model.Candidate
	// Digest, when non-empty, makes this a summary of several alerts: the
	// candidates of Records, in order. Candidate is then nil.
	Digest  []model.Candidate
	Records []model.OutboxRecord
}

// ID is the message's stable delivery id (webhook-id): the record ID, or for
// a digest the first and last record IDs joined, so the same set of records
// always carries the same id.
func (m Message) ID() string {
	if len(m.Records) > 1 {
		return "digest_" + m.Records[0].ID + "_" + m.Records[len(m.Records)-1].ID
	}
	return m.Record.ID
}

// Options are what every notifier constructor receives besides its
// destination.
type Options struct {
	HTTP      *http.Client     // shared; default NewHTTPClient()
	Now       func() time.Time // default time.Now
	ReviewURL string           // base of "open candidate" links
	Log       *slog.Logger     // default slog.Default()
}

// Factory builds the notifier of one destination type.
type Factory func(d config.Destination, o Options) (Notifier, error)

// Build constructs a notifier for every destination with the factory
// registered for its type (cmd passes {"slack": slack.New, "webhook":
// webhook.New}). Defaults are applied to cfg first.
func Build(cfg config.Alerts, factories map[string]Factory, o Options) (map[string]Notifier, error) {
	cfg = cfg.WithDefaults()
	if o.HTTP == nil {
		o.HTTP = NewHTTPClient()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.ReviewURL == "" {
		o.ReviewURL = cfg.ReviewURL
	}
	out := make(map[string]Notifier, len(cfg.Destinations))
	for _, d := range cfg.Destinations {
		f, ok := factories[d.Type]
		if !ok {
			return nil, fmt.Errorf("build notifier %s: no notifier for type %q", d.Name, d.Type)
		}
		n, err := f(d, o)
		if err != nil {
			return nil, fmt.Errorf("build notifier %s: %w", d.Name, err)
		}
		out[d.Name] = n
	}
	return out, nil
}

// Truncate returns s cut to at most n runes, ending in "…" when cut, never
// splitting a rune. n < 1 yields "".
func Truncate(s string, n int) string {
	if n < 1 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for j := range s {
		if count == n-1 {
			i = j
			break
		}
		count++
	}
	return s[:i] + "…"
}
