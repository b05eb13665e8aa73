package timeline

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tierwatch/tierwatch/model"
)

// Event is one timeline event file: the front matter fields and the body.
type Event struct {
	ID         string // "YYYY-MM-DD--slug", equal to the file stem
	Date       string // YYYY-MM-DD
	Title      string
	Importance int // 1 to 10
	Status     string
	Actors     []string
	Tags       []string
	Sources    []Source
	Summary    string // the Markdown body, without surrounding white space
}

// Source is one source of an Event.
type Source struct {
	URL        string
	Title      string
	Publisher  string
	Date       string // YYYY-MM-DD
	Tier       int    // 1, 2 or 3
	ArchiveURL string // optional
}

// Event statuses allowed by the timeline README.
const (
	StatusConfirmed  = "confirmed"
	StatusReported   = "reported"
	StatusDeveloping = "developing"
	StatusAlleged    = "alleged"
	StatusDisputed   = "disputed"
)

// statuses is the README's set of event statuses.
var statuses = []string{StatusConfirmed, StatusReported, StatusDeveloping, StatusAlleged, StatusDisputed}

// Limits from the README's front matter table.
const (
	minTitle      = 10
	maxTitle      = 200
	minImportance = 1
	maxImportance = 10
	minBody       = 50
	maxSlug       = 80 // ours: keeps file names readable; the README sets no limit
	dateLayout    = "2006-01-02"
)

var (
	idRe   = regexp.MustCompile(`^([0-9]{4}-[0-9]{2}-[0-9]{2})--([a-z0-9-]+)$`)
	dateRe = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	tagRe  = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
)

// validDate reports whether s is a real calendar date in YYYY-MM-DD form.
func validDate(s string) bool {
	if !dateRe.MatchString(s) {
		return false
	}
	_, err := time.Parse(dateLayout, s)
	return err == nil
}

// isFuture reports whether date (YYYY-MM-DD) is after the UTC day of now.
func isFuture(date string, now time.Time) bool {
	return date > now.UTC().Format(dateLayout)
}

// FromCandidate maps a candidate onto the event it would be exported as.
//
// Title, actors, tags and source texts are cleaned of control characters and
// invalid UTF-8; actors and tags are sorted and deduplicated, tags made
// lowercase-hyphenated; sources are deduplicated by URL and sorted by tier
// (unknown tiers count as 3, as in the timeline's own classifier) then title.
// Status is c.EventStatus when it is one of the README's statuses, else
// "reported". Importance is clamped to 1..10. The summary is c.Summary, or
// one generated from the sources (at least 50 characters) when that is empty.
// The id keeps the slug of c.ID but takes its date from the event date, so
// a reviewer's date edit keeps the id's date prefix equal to the date.
//
// FromCandidate reads no clock: an event dated after the day of c.LastSeen
// (the last time any source spoke of it) is in the future as far as its
// sources know, so it is never "confirmed". Export applies the same rule
// against its own clock.
func FromCandidate(c model.Candidate) Event {
	return fromCandidate(c, c.LastSeen)
}

func fromCandidate(c model.Candidate, now time.Time) Event {
	e := Event{
		Date:       c.Date,
		Title:      cleanLine(c.Title),
		Importance: min(max(c.Importance, minImportance), maxImportance),
		Status:     StatusReported,
	}
	if !validDate(e.Date) && !c.FirstSeen.IsZero() {
		e.Date = c.FirstSeen.UTC().Format(dateLayout)
	}
	e.Title = truncateRunes(e.Title, maxTitle)
	if slices.Contains(statuses, c.EventStatus) {
		e.Status = c.EventStatus
	}
	if e.Status == StatusConfirmed && !now.IsZero() && isFuture(e.Date, now) {
		e.Status = StatusReported
	}

	stem := Slugify(c.Title)
	if m := idRe.FindStringSubmatch(c.ID); m != nil {
		stem = m[2]
	}
	e.ID = e.Date + "--" + stem

	for _, a := range c.Actors {
		if a = cleanLine(a); a != "" {
			e.Actors = append(e.Actors, a)
		}
	}
	slices.Sort(e.Actors)
	e.Actors = slices.Compact(e.Actors)
	for _, t := range c.Tags {
		if t = slug(t); t != "" {
			e.Tags = append(e.Tags, t)
		}
	}
	slices.Sort(e.Tags)
	e.Tags = slices.Compact(e.Tags)

	e.Sources = sourcesFrom(c.Sources)
	e.Summary = cleanBody(c.Summary)
	if e.Summary == "" {
		e.Summary = generateSummary(e)
	}
	return e
}

// sourcesFrom converts candidate refs, keeping the best tier per URL, and
// sorts them by tier, then title, then URL (the last only for determinism).
func sourcesFrom(refs []model.Ref) []Source {
	byURL := map[string]int{}
	var out []Source
	for _, r := range refs {
		s := Source{
			URL:       strings.TrimSpace(r.URL),
			Title:     cleanLine(r.Title),
			Publisher: cleanLine(r.Publisher),
			Date:      strings.TrimSpace(r.Date),
			Tier:      int(r.Tier),
		}
		if !r.Tier.Valid() {
			s.Tier = 3
		}
		if i, ok := byURL[s.URL]; ok {
			if s.Tier < out[i].Tier {
				out[i] = s
			}
			continue
		}
		byURL[s.URL] = len(out)
		out = append(out, s)
	}
	SortSources(out)
	return out
}

// SortSources sorts sources in the README's order: tier, then title, with
// the URL breaking ties so that the order is deterministic.
func SortSources(ss []Source) {
	slices.SortStableFunc(ss, func(a, b Source) int {
		return cmp.Or(cmp.Compare(a.Tier, b.Tier), strings.Compare(a.Title, b.Title), strings.Compare(a.URL, b.URL))
	})
}

// generateSummary writes a plain body from the event's own fields. Feed
// titles are untrusted, so '<', '>' and '&' are written as HTML entities:
// the body is Markdown, which would pass raw HTML through.
func generateSummary(e Event) string {
	var b strings.Builder
	b.WriteString(strings.TrimRight(e.Title, "."))
	b.WriteString(".")
	for _, s := range e.Sources {
		pub := cmp.Or(s.Publisher, "A source")
		fmt.Fprintf(&b, " %s reported %q", pub, s.Title)
		if s.Date != "" {
			fmt.Fprintf(&b, " on %s", s.Date)
		}
		b.WriteString(".")
	}
	if utf8.RuneCountInString(b.String()) < minBody {
		b.WriteString(" No further details were recorded at export.")
	}
	return htmlEscaper.Replace(b.String())
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Slugify makes a lowercase-hyphenated slug ([a-z0-9] runs joined by single
// hyphens) of at most 80 bytes, cut at a hyphen when possible. Letters
// outside ASCII are dropped. It returns "event" when nothing is left, so the
// result is always a valid id slug and tag.
func Slugify(s string) string {
	if out := slug(s); out != "" {
		return out
	}
	return "event"
}

// slug is Slugify without the fallback: it returns "" for text with no
// ASCII letters or digits.
func slug(s string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(r)
		case unicode.IsLetter(r) || unicode.IsMark(r) || r == '\'' || r == '’':
			// Dropped without a break, so "don't" is "dont" and "Zürich" "zrich".
		default:
			hyphen = true
		}
	}
	out := b.String()
	if len(out) > maxSlug {
		out = out[:maxSlug]
		if i := strings.LastIndexByte(out, '-'); i > maxSlug/2 {
			out = out[:i]
		}
		out = strings.TrimRight(out, "-")
	}
	return out
}

// cleanLine makes untrusted text one line: invalid UTF-8 replaced, control
// characters and runs of white space turned into single spaces, trimmed.
func cleanLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// cleanBody keeps line breaks and tabs but drops other control characters,
// turns CRLF into LF and trims surrounding white space.
func cleanBody(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if r == '\r' {
			return '\n'
		}
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// truncateRunes cuts s to at most n runes, at a space when one is near the
// end, marking the cut with an ellipsis.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n-1]
	if i := slices.Index(r[n*3/4:], ' '); i >= 0 {
		// Prefer the last space in the final quarter.
		last := n*3/4 + i
		for j := last; j < len(r); j++ {
			if r[j] == ' ' {
				last = j
			}
		}
		r = r[:last]
	}
	return strings.TrimSpace(string(r)) + "…"
}
