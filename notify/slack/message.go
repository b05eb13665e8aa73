package slack

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/notify"
)

// eventTitle names an alert event for people.
func eventTitle(event string) string {
	switch event {
	case model.AlertCreated:
		return "New candidate"
	case model.AlertScoreRaised:
		return "Score threshold crossed"
	case model.AlertFirstTier1:
		return "First tier-1 source"
	case model.AlertSourceDown:
		return "Source failing"
	case model.AlertSourceUp:
		return "Source recovered"
	}
	return "Alert"
}

// render builds the Block Kit message for m. Every text is cleaned,
// escaped where it is mrkdwn, and cut to Slack's limits.
func render(m notify.Message, reviewURL string) payload {
	switch {
	case len(m.Records) > 1:
		return renderDigest(m, reviewURL)
	case m.Candidate == nil:
		return renderSource(m.Record)
	}
	return renderCandidate(m.Record, m.Candidate, reviewURL)
}

func reviewLink(base, id string) string {
	return strings.TrimRight(base, "/") + "/#" + url.PathEscape(id)
}

// bestSource is the source with the best (lowest) tier, the first on ties.
func bestSource(c *model.Candidate) (model.Ref, bool) {
	if len(c.Sources) == 0 {
		return model.Ref{}, false
	}
	best := c.Sources[0]
	for _, s := range c.Sources[1:] {
		if s.Tier.Valid() && (!best.Tier.Valid() || s.Tier < best.Tier) {
			best = s
		}
	}
	return best, true
}

func tierText(t model.Tier) string {
	if !t.Valid() {
		return "tier ?"
	}
	return "tier " + strconv.Itoa(int(t))
}

func matchedTerms(c *model.Candidate) string {
	var terms []string
	for _, m := range c.Matches {
		for _, h := range m.Hits {
			if t := oneLine(h.Text); t != "" && !slices.Contains(terms, t) {
				terms = append(terms, t)
			}
		}
	}
	return strings.Join(terms, ", ")
}

func field(label, value string) text {
	if value == "" {
		value = "–"
	}
	return *mrkdwn(cut("*"+label+"*\n"+escape(oneLine(value)), maxField))
}

func renderCandidate(r model.OutboxRecord, c *model.Candidate, reviewURL string) payload {
	title := oneLine(clean(c.Title))
	if title == "" {
		title = c.ID
	}
	src, hasSrc := bestSource(c)
	review := reviewLink(reviewURL, c.ID)

	heading := eventTitle(r.Event) + ": " + title
	// The section is cut to maxSection (keeping maxSection-1 characters
	// before the ellipsis); the link must end before that.
	body := link(src.URL, escape(cut(title, 500)), maxSection-1)
	if s := oneLine(clean(c.Summary)); s != "" {
		body += "\n" + escape(cut(s, maxSummary))
	}
	publisher := src.Publisher
	if hasSrc {
		publisher = fmt.Sprintf("%s (%s)", cut(oneLine(src.Publisher), 200), tierText(src.Tier))
		if n := c.Publishers(); n > 1 {
			publisher += fmt.Sprintf(", %d publishers", n)
		}
	}
	blocks := []block{
		{Type: "header", Text: plain(plainText(heading, maxHeader))},
		{Type: "section", Text: mrkdwn(cut(body, maxSection))},
		{Type: "section", Fields: []text{
			field("Publisher", publisher),
			field("Rule", strings.Join(c.Rules, ", ")),
			field("Score", strconv.FormatFloat(c.Score, 'f', 1, 64)),
			field("Date", c.Date),
			field("Matched", matchedTerms(c)),
		}},
		{Type: "context", Elements: []any{mrkdwn(cut(fmt.Sprintf("Candidate `%s` · %s · %d source(s)",
			escape(oneLine(c.ID)), escape(r.Event), len(c.Sources)), maxSection))}},
	}
	var buttons []any
	if u := safeURL(src.URL); u != "" {
		buttons = append(buttons, button{Type: "button", Text: *plain(plainText("Open source: "+src.Publisher, maxButtonText)), URL: u, ActionID: "open_source"})
	}
	if u := safeURL(review); u != "" {
		buttons = append(buttons, button{Type: "button", Text: *plain("Review candidate"), URL: u, ActionID: "review"})
	}
	if len(buttons) > 0 {
		blocks = append(blocks, block{Type: "actions", Elements: buttons})
	}
	fallback := fmt.Sprintf("%s: %s (score %.1f, %s) %s", eventTitle(r.Event), escape(cut(title, 1000)), c.Score, tierText(c.BestTier()), review)
	return payload{Text: cut(fallback, maxText), Blocks: blocks}
}

func renderSource(r model.OutboxRecord) payload {
	heading := eventTitle(r.Event) + ": " + oneLine(clean(r.Source))
	detail := escape(oneLine(r.Detail))
	if detail == "" {
		detail = "(no detail)"
	}
	blocks := []block{
		{Type: "header", Text: plain(plainText(heading, maxHeader))},
		{Type: "section", Text: mrkdwn(cut(detail, maxSection))},
	}
	return payload{Text: cut(escape(heading)+": "+detail, maxText), Blocks: blocks}
}

// renderDigest lists the digest's alerts, several per section, within the
// block limit; what does not fit is counted in a final context line.
func renderDigest(m notify.Message, reviewURL string) payload {
	heading := fmt.Sprintf("%d new alerts", len(m.Records))
	blocks := []block{{Type: "header", Text: plain(heading)}}
	var lines []string
	for i := range m.Digest {
		if i == maxDigestItems {
			break
		}
		c := &m.Digest[i]
		src, _ := bestSource(c)
		tail := fmt.Sprintf(" — %s, score %.1f · %s", escape(cut(oneLine(src.Publisher), 100)), c.Score,
			link(reviewLink(reviewURL, c.ID), "review", maxSection/2))
		// A line is cut to maxSection below; the title's link must fit
		// before the tail so that no cut falls inside a link.
		budget := maxSection - 1 - utf8.RuneCountInString(tail) - utf8.RuneCountInString("• ")
		lines = append(lines, "• "+link(src.URL, escape(cut(oneLine(c.Title), 200)), budget)+tail)
	}
	// Pack lines into sections of at most maxSection characters.
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			blocks = append(blocks, block{Type: "section", Text: mrkdwn(cur.String())})
			cur.Reset()
		}
	}
	for _, l := range lines {
		if len([]rune(cur.String()))+len([]rune(l))+1 > maxSection {
			flush()
		}
		if cur.Len() > 0 {
			cur.WriteByte('\n')
		}
		cur.WriteString(cut(l, maxSection))
	}
	flush()
	if rest := len(m.Records) - len(lines); rest > 0 {
		blocks = append(blocks, block{Type: "context", Elements: []any{mrkdwn(fmt.Sprintf("and %d more (source alerts or beyond the first %d)", rest, maxDigestItems))}})
	}
	if len(blocks) > maxBlocks {
		blocks = blocks[:maxBlocks]
	}
	fallback := heading + ": " + strings.Join(lines, " ")
	return payload{Text: cut(fallback, maxText), Blocks: blocks}
}
