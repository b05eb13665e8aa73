package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/notify"
	"github.com/tierwatch/tierwatch/notify/notifytest"
)

// TestSignVector reproduces the Standard Webhooks reference test vector.
func TestSignVector(t *testing.T) {
	key, err := Key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
	if _, err := Key("whsec_not base64!"); err == nil || strings.Contains(err.Error(), "not base64!") {
		t.Errorf("Key(bad) error = %v, want one that does not quote the secret", err)
	}
}

func TestSendToVerifyingReceiver(t *testing.T) {
	const secret = "whsec_c2VjcmV0LWtleS1mb3ItdGVzdHM="
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	c := &model.Candidate{ID: "2026-03-01--x", Title: "ICE contract", Score: 9, Sources: []model.Ref{{URL: "https://a.example", Tier: 1}}}
	rec := model.OutboxRecord{ID: "0123abcd", Dest: "hook", Event: model.AlertFirstTier1, CandidateID: c.ID, CreatedAt: now.Add(-time.Minute)}
	msg := notify.Message{Record: rec, Candidate: c, Records: []model.OutboxRecord{rec}}

	tests := []struct {
		name       string
		sendSecret string
		sends      int
		wantClass  model.ErrorClass
		wantGot    int
		wantDups   int
	}{
		{"verified once", secret, 1, "", 1, 0},
		{"retry keeps webhook-id and is deduped", secret, 2, "", 1, 1},
		{"wrong secret rejected", "whsec_d3Jvbmc=", 1, model.ClassAuth, 0, 0},
		{"raw secret on both sides", "plain-secret", 1, "", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recvSecret := secret
			if tt.sendSecret == "plain-secret" {
				recvSecret = "plain-secret"
			}
			rcv := notifytest.NewReceiver(t, recvSecret, notifytest.ReceiverOptions{Now: clock})
			var logs bytes.Buffer
			n, err := New(config.Destination{Name: "hook", Type: config.DestWebhook, URL: config.NewSecret(rcv.URL), Secret: config.NewSecret(tt.sendSecret)},
				notify.Options{Now: clock, Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			if err != nil {
				t.Fatal(err)
			}
			for range tt.sends {
				_, err = n.Send(context.Background(), msg)
			}
			var de *notify.DeliveryError
			switch {
			case tt.wantClass == "" && err != nil:
				t.Fatalf("Send: %v (receiver rejected: %v)", err, rcv.Rejected())
			case tt.wantClass != "" && (!errors.As(err, &de) || de.Class != tt.wantClass):
				t.Fatalf("Send error = %v, want class %s", err, tt.wantClass)
			}
			got := rcv.Deliveries()
			if len(got) != tt.wantGot || rcv.Duplicates() != tt.wantDups {
				t.Fatalf("receiver got %d (dups %d), want %d (dups %d)", len(got), rcv.Duplicates(), tt.wantGot, tt.wantDups)
			}
			for _, s := range []string{logs.String(), errString(err)} {
				if strings.Contains(s, "/hooks/tierwatch-secret-path") || strings.Contains(s, tt.sendSecret) {
					t.Errorf("URL or secret leaked: %q", s)
				}
			}
			if len(got) == 0 {
				return
			}
			d := got[0]
			if d.ID != rec.ID || d.Timestamp != now.Unix() || d.Type != model.AlertFirstTier1 {
				t.Errorf("delivery = id %s ts %d type %s", d.ID, d.Timestamp, d.Type)
			}
			var env struct {
				Type      string          `json:"type"`
				Timestamp string          `json:"timestamp"`
				Data      model.Candidate `json:"data"`
			}
			if err := json.Unmarshal(d.Body, &env); err != nil {
				t.Fatal(err)
			}
			if env.Timestamp != "2026-03-01T11:59:00Z" || env.Data.ID != c.ID || env.Data.Title != c.Title {
				t.Errorf("envelope = %+v", env)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestBodyKinds(t *testing.T) {
	src := model.OutboxRecord{ID: "s", Event: model.AlertSourceDown, Source: "sam", Detail: "401 for 3h"}
	b, err := Body(notify.Message{Record: src, Records: []model.OutboxRecord{src}})
	if err != nil || !strings.Contains(string(b), `"type":"source.failing"`) || !strings.Contains(string(b), `"source":"sam"`) {
		t.Errorf("source body = %s, %v", b, err)
	}
	recs := []model.OutboxRecord{{ID: "a"}, {ID: "b"}}
	m := notify.Message{Record: recs[0], Records: recs, Digest: []model.Candidate{{ID: "c1"}, {ID: "c2"}}}
	b, err = Body(m)
	if err != nil || !strings.Contains(string(b), `"type":"digest"`) || m.ID() != "digest_a_b" {
		t.Errorf("digest body = %s (id %s), %v", b, m.ID(), err)
	}
}
