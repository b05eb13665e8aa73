package notify_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/notify"
	"github.com/tierwatch/tierwatch/notify/notifytest"
	"github.com/tierwatch/tierwatch/notify/slack"
	"github.com/tierwatch/tierwatch/notify/webhook"
	"github.com/tierwatch/tierwatch/storage"
)

// TestOutageAgainstRealStore runs the dispatcher over a real bbolt store
// with a webhook receiver that is down for its first N requests and a Slack
// channel that rate-limits once. Every alert arrives exactly once (the
// receiver dedupes), in order per destination, and the retries are spaced
// as the backoff says. Time is a manual clock; nothing sleeps.
func TestOutageAgainstRealStore(t *testing.T) {
	tests := []struct {
		name     string
		failures int
	}{
		{"short blip", 1},
		{"outage of four attempts", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := notifytest.NewClock(t0)
			store, err := storage.Open(t.TempDir(), storage.Options{Now: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := store.Check(); err != nil {
					t.Errorf("store check: %v", err)
				}
				store.Close()
			})
			rcv := notifytest.NewReceiver(t, "whsec_c2VjcmV0", notifytest.ReceiverOptions{FailFirst: tt.failures, Now: clock.Now})
			sl := notifytest.NewSlackServer(t, notifytest.SlackReply{Status: 429, Body: "rate_limited", RetryAfter: "20"})
			cfg := config.Alerts{Destinations: []config.Destination{
				{Name: "hook", Type: config.DestWebhook, URL: config.NewSecret(rcv.URL), Secret: config.NewSecret("whsec_c2VjcmV0"), Default: true},
				{Name: "chan", Type: config.DestSlack, URL: config.NewSecret(sl.URL), Default: true},
			}}
			log, logs := testLogger()
			ns, err := notify.Build(cfg, map[string]notify.Factory{config.DestSlack: slack.New, config.DestWebhook: webhook.New},
				notify.Options{Now: clock.Now, Log: log})
			if err != nil {
				t.Fatal(err)
			}
			d := notify.NewDispatcher(store, ns, cfg, clock, log)
			d.SetBackoff(fixedBackoff)

			// Three candidates, each routed to both destinations in the
			// transaction that creates it, as the ingest does.
			var ids []string
			for i := range 3 {
				err := store.Update(func(tx *storage.Tx) error {
					c := &model.Candidate{ID: fmt.Sprintf("2026-03-01--event-%d", i), Status: model.StatusPending, Title: fmt.Sprintf("Event %d", i), Score: 10,
						Sources: []model.Ref{{URL: "https://example.com/" + fmt.Sprint(i), Publisher: "Reuters", Tier: 1}}}
					if err := tx.PutCandidate(c); err != nil {
						return err
					}
					for _, dest := range cfg.Route(c, model.AlertCreated) {
						if err := tx.Enqueue(model.OutboxRecord{Dest: dest, Event: model.AlertCreated, CandidateID: c.ID, CreatedAt: clock.Now()}); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				clock.Advance(time.Second)
			}
			pending, _ := store.Outbox(model.OutboxPending)
			for _, r := range pending {
				if r.Dest == "hook" {
					ids = append(ids, r.ID)
				}
			}

			// Drive passes at the times the dispatcher asks for.
			for range 50 {
				if _, err := d.DeliverDue(context.Background()); err != nil {
					t.Fatal(err)
				}
				left, _ := store.Outbox("")
				if len(left) == 0 {
					break
				}
				// Jump to the earliest retry; with none, 1s on (Slack's gap).
				var next time.Time
				for _, r := range left {
					if r.State == model.OutboxDead {
						t.Fatalf("record went dead: %+v", r)
					}
					if r.NextAttempt.After(clock.Now()) && (next.IsZero() || r.NextAttempt.Before(next)) {
						next = r.NextAttempt
					}
				}
				if next.IsZero() {
					next = clock.Now().Add(time.Second)
				}
				clock.Set(next)
			}

			got := rcv.Deliveries()
			var gotIDs []string
			for _, dl := range got {
				gotIDs = append(gotIDs, dl.ID)
			}
			if !equal(gotIDs, ids) {
				t.Errorf("webhook deliveries %v, want %v in order", gotIDs, ids)
			}
			if rej := rcv.Rejected(); len(rej) > 0 {
				t.Errorf("receiver rejected signatures: %v", rej)
			}
			// Spacing: failed attempts are 30s, 60s, 120s, … apart.
			at := rcv.Attempts()
			for i := 1; i <= tt.failures; i++ {
				want := fixedBackoff.Delay(i)
				if gap := at[i].Sub(at[i-1]); gap != want {
					t.Errorf("gap before attempt %d = %s, want %s", i+1, gap, want)
				}
			}
			msgs := sl.Messages()
			if len(msgs) != 3 {
				t.Fatalf("slack got %d messages, want 3", len(msgs))
			}
			for i, m := range msgs {
				if !strings.Contains(string(m), fmt.Sprintf("Event %d", i)) {
					t.Errorf("slack message %d out of order: %.80s", i, m)
				}
			}
			if s := logs.String(); strings.Contains(s, "/services/") || strings.Contains(s, "tierwatch-secret-path") || strings.Contains(s, "c2VjcmV0") {
				t.Errorf("logs leak a destination URL or secret:\n%s", s)
			}
		})
	}
}
