package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/notify"
	"github.com/tierwatch/tierwatch/notify/notifytest"
)

func candidate(title string) *model.Candidate {
	return &model.Candidate{
		ID: "2026-03-01--amazon-ice-contract", Title: title, Score: 17.25, Date: "2026-03-01",
		Summary: "AWS wins a hosting task order.", Rules: []string{"amazon-ice"},
		Sources: []model.Ref{
			{URL: "https://blog.example/a", Publisher: "Some Blog", Tier: 3},
			{URL: "https://www.reuters.com/x?a=1&b=2", Publisher: "Reuters", Tier: 1},
		},
		Matches: []model.Match{{Rule: "amazon-ice", Hits: []model.Hit{{Text: "AWS"}, {Text: "ICE"}, {Text: "AWS"}}}},
	}
}

func message(c *model.Candidate) notify.Message {
	r := model.OutboxRecord{ID: "rec1", Dest: "chan", Event: model.AlertCreated, CandidateID: c.ID}
	return notify.Message{Record: r, Candidate: c, Records: []model.OutboxRecord{r}}
}

func newNotifier(t *testing.T, url string) (notify.Notifier, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	n, err := New(config.Destination{Name: "chan", Type: config.DestSlack, URL: config.NewSecret(url)},
		notify.Options{ReviewURL: "http://127.0.0.1:8765", Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	return n, &logs
}

// TestSendAgainstSlack posts to a server behaving like Slack and checks the
// classification of each documented answer and that the hook URL never
// leaks into errors or logs.
func TestSendAgainstSlack(t *testing.T) {
	tests := []struct {
		name      string
		reply     *notifytest.SlackReply
		wantClass model.ErrorClass
		wantRA    time.Duration
	}{
		{"ok", nil, "", 0},
		{"429 with Retry-After", &notifytest.SlackReply{Status: 429, Body: "rate_limited", RetryAfter: "3"}, model.ClassRateLimited, 3 * time.Second},
		{"400 invalid_payload", &notifytest.SlackReply{Status: 400, Body: "invalid_payload"}, model.ClassPermanent, 0},
		{"403 action_prohibited", &notifytest.SlackReply{Status: 403, Body: "action_prohibited"}, model.ClassAuth, 0},
		{"404 no_service", &notifytest.SlackReply{Status: 404, Body: "no_service"}, model.ClassPermanent, 0},
		{"410 channel_is_archived", &notifytest.SlackReply{Status: 410, Body: "channel_is_archived"}, model.ClassPermanent, 0},
		{"500", &notifytest.SlackReply{Status: 500, Body: "rollup_error"}, model.ClassHTTPStatus, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var script []notifytest.SlackReply
			if tt.reply != nil {
				script = append(script, *tt.reply)
			}
			srv := notifytest.NewSlackServer(t, script...)
			n, logs := newNotifier(t, srv.URL)
			rc, err := n.Send(context.Background(), message(candidate("AWS wins ICE cloud deal")))
			if tt.wantClass == "" {
				if err != nil || rc.Body != "ok" || len(srv.Messages()) != 1 {
					t.Fatalf("Send = %+v, %v; server accepted %d", rc, err, len(srv.Messages()))
				}
				return
			}
			var de *notify.DeliveryError
			if !errors.As(err, &de) || de.Class != tt.wantClass || de.RetryAfter != tt.wantRA {
				t.Fatalf("Send error = %v, want class %s retry-after %s", err, tt.wantClass, tt.wantRA)
			}
			secretPart := srv.URL[strings.Index(srv.URL, "/services/"):]
			for _, s := range []string{err.Error(), logs.String()} {
				if strings.Contains(s, secretPart) || strings.Contains(s, "XXXXXXXX") {
					t.Errorf("hook URL leaked: %q", s)
				}
			}
		})
	}
}

// TestHostileTitle: Slack mrkdwn and link syntax, mentions and 10,000
// characters produce a message Slack accepts, within every limit, with no
// live link or mention from the feed.
func TestHostileTitle(t *testing.T) {
	hostile := "<https://evil.example|click> <!channel> <!here> @channel *bold* _it_ `code` & <@U123> " +
		strings.Repeat("é<>&|", 2000)
	c := candidate(hostile)
	c.Summary = strings.Repeat("<!everyone> ", 1000)
	c.Sources[1].Publisher = strings.Repeat("P<ub>", 100)
	c.Sources[1].URL = "https://www.reuters.com/" + strings.Repeat("a", 5000) // too long for a button
	c.Rules = []string{strings.Repeat("r", 5000)}
	for i := range 200 {
		c.Matches[0].Hits = append(c.Matches[0].Hits, model.Hit{Text: strings.Repeat("x", i+1)})
	}
	srv := notifytest.NewSlackServer(t)
	n, _ := newNotifier(t, srv.URL)
	if _, err := n.Send(context.Background(), message(c)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("Slack accepted %d messages, want 1", len(msgs))
	}
	body := msgs[0]
	if err := notifytest.CheckSlackMessage(body); err != nil {
		t.Fatalf("message breaks a Slack limit: %v", err)
	}
	var all []string
	collectStrings(t, body, &all)
	for _, s := range all {
		for _, bad := range []string{"<https://evil", "<!channel>", "<!here>", "<!everyone>", "<@U123>", "@channel"} {
			if strings.Contains(s, bad) {
				t.Errorf("feed text %q survives in %q", bad, notify.Truncate(s, 80))
			}
		}
		if !utf8.ValidString(s) {
			t.Errorf("invalid UTF-8 in %q", notify.Truncate(s, 80))
		}
	}
	var p payload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Text == "" || len(p.Blocks) < 4 {
		t.Fatalf("fallback text %q, %d blocks", notify.Truncate(p.Text, 40), len(p.Blocks))
	}
	if h := p.Blocks[0].Text.Text; utf8.RuneCountInString(h) != maxHeader {
		t.Errorf("header has %d characters, want it cut to %d", utf8.RuneCountInString(h), maxHeader)
	}
}

// collectStrings gathers every JSON string value in body.
func collectStrings(t *testing.T, body []byte, out *[]string) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			*out = append(*out, x)
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
}

func TestRenderCandidate(t *testing.T) {
	p := render(message(candidate("AWS & ICE <deal>")), "http://127.0.0.1:8765/")
	b, _ := json.Marshal(p)
	s := string(b)
	for _, want := range []string{
		`"type":"header"`, `AWS \u0026 ICE ‹deal›`, // header is plain_text: brackets disarmed
		`\u003chttps://www.reuters.com/x?a=1\u0026amp;b=2|AWS \u0026amp; ICE \u0026lt;deal\u0026gt;\u003e`, // linked title, best tier
		`Reuters (tier 1), 2 publishers`, `*Score*\n17.2`, `AWS, ICE`, "Candidate `2026-03-01--amazon-ice-contract`",
		`"url":"http://127.0.0.1:8765/#2026-03-01--amazon-ice-contract"`, `"action_id":"open_source"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("message lacks %s\n%s", want, s)
		}
	}
}

func TestRenderDigestAndSource(t *testing.T) {
	var m notify.Message
	for i := range 60 {
		c := *candidate(strings.Repeat("long title ", 30))
		c.ID = c.ID + string(rune('a'+i%26))
		m.Digest = append(m.Digest, c)
		m.Records = append(m.Records, model.OutboxRecord{ID: "r", Dest: "chan", Event: model.AlertCreated})
	}
	m.Record = m.Records[0]
	for name, p := range map[string]payload{
		"digest": render(m, "http://127.0.0.1:8765"),
		"source": render(notify.Message{Record: model.OutboxRecord{Event: model.AlertSourceDown, Source: "sam<x>", Detail: strings.Repeat("<!here>", 1000)}}, ""),
	} {
		b, _ := json.Marshal(p)
		if err := notifytest.CheckSlackMessage(b); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if strings.Contains(string(b), "<!here>") {
			t.Errorf("%s: mention survives", name)
		}
	}
}

// TestLinksStayWhole: a long source URL with a long title must not give a
// link that the section's length cut leaves open ("<https://…|tit…"
// without its ">"); the title then goes unlinked.
func TestLinksStayWhole(t *testing.T) {
	longURL := "https://www.reuters.com/" + strings.Repeat("a", 2900)
	tests := []struct {
		name     string
		url      string
		title    string
		wantLink bool
	}{
		{"short url and title", "https://www.reuters.com/x", "AWS wins ICE cloud deal", true},
		{"long url, short title", longURL, "AWS wins ICE cloud deal", true},
		{"long url, long escaped title", longURL, strings.Repeat("&", 600), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := candidate(tt.title)
			c.Sources = c.Sources[1:]
			c.Sources[0].URL = tt.url
			var texts []string
			p := render(message(c), "http://127.0.0.1:8765")
			texts = append(texts, p.Blocks[1].Text.Text)
			d := render(notify.Message{Record: message(c).Record, Digest: []model.Candidate{*c, *c},
				Records: []model.OutboxRecord{{ID: "r1"}, {ID: "r2"}}}, "http://127.0.0.1:8765")
			for _, b := range d.Blocks {
				if b.Type == "section" {
					texts = append(texts, b.Text.Text)
				}
			}
			for _, s := range texts {
				if open, closed := strings.Count(s, "<"), strings.Count(s, ">"); open != closed {
					t.Errorf("%d '<' but %d '>' in %q", open, closed, notify.Truncate(s, 60)+" … "+s[max(0, len(s)-60):])
				}
			}
			if got := strings.Contains(texts[0], "<"+tt.url+"|"); got != tt.wantLink {
				t.Errorf("title linked = %v, want %v", got, tt.wantLink)
			}
		})
	}
}

// TestFallbackTextKeepsLinksWhole: the notification text (shown where
// blocks are not) is cut to Slack's limit too; a digest of many long
// links must not leave the last one open there.
func TestFallbackTextKeepsLinksWhole(t *testing.T) {
	var m notify.Message
	for i := range 40 {
		c := *candidate("AWS wins ICE cloud deal")
		c.ID = fmt.Sprintf("%s-%02d", c.ID, i)
		c.Sources = c.Sources[1:]
		c.Sources[0].URL = "https://www.reuters.com/" + strings.Repeat("a", 2600)
		m.Digest = append(m.Digest, c)
		m.Records = append(m.Records, model.OutboxRecord{ID: fmt.Sprint("r", i), Dest: "chan", Event: model.AlertCreated})
	}
	m.Record = m.Records[0]
	p := render(m, "http://127.0.0.1:8765")
	if n := utf8.RuneCountInString(p.Text); n > maxText {
		t.Fatalf("text of %d characters, over %d", n, maxText)
	}
	if open, closed := strings.Count(p.Text, "<"), strings.Count(p.Text, ">"); open != closed {
		t.Errorf("%d '<' but %d '>' in the fallback text, ending %q", open, closed, p.Text[max(0, len(p.Text)-80):])
	}
}
