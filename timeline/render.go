package timeline

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

const delimiter = "---\n"

// Render writes e as an event file in the README's shape: "---", the front
// matter fields in the order id, date, title, importance, status, actors,
// tags, sources (block lists; each source's keys url, title, publisher, date,
// tier, then archive_url when set), "---", then the summary as the body.
// Dates are single-quoted; other strings are quoted only when YAML (1.2, or
// the 1.1 read by the timeline's Python tools) would otherwise read them as
// something else, and text with line breaks or control characters is
// double-quoted with escapes, so any valid UTF-8 title round-trips through
// Parse. The output is deterministic.
//
// Render does not check the timeline's rules (see Validate); it fails only
// when a text field is not valid UTF-8.
func Render(e Event) ([]byte, error) {
	if err := checkUTF8(e); err != nil {
		return nil, fmt.Errorf("render event %s: %w", e.ID, err)
	}
	root := &yaml.Node{Kind: yaml.MappingNode}
	add := func(key string, v *yaml.Node) { root.Content = append(root.Content, str(key), v) }
	add("id", str(e.ID))
	add("date", date(e.Date))
	add("title", str(e.Title))
	add("importance", integer(e.Importance))
	add("status", str(e.Status))
	add("actors", list(e.Actors))
	add("tags", list(e.Tags))
	sources := &yaml.Node{Kind: yaml.SequenceNode}
	for _, s := range e.Sources {
		m := &yaml.Node{Kind: yaml.MappingNode}
		m.Content = append(m.Content,
			str("url"), str(s.URL),
			str("title"), str(s.Title),
			str("publisher"), str(s.Publisher),
			str("date"), date(s.Date),
			str("tier"), integer(s.Tier))
		if s.ArchiveURL != "" {
			m.Content = append(m.Content, str("archive_url"), str(s.ArchiveURL))
		}
		sources.Content = append(sources.Content, m)
	}
	add("sources", sources)

	var buf bytes.Buffer
	buf.WriteString(delimiter)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	enc.CompactSeqIndent() // "- AWS" at the key's column, as in the README
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}); err != nil {
		return nil, fmt.Errorf("render event %s: %w", e.ID, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("render event %s: %w", e.ID, err)
	}
	buf.WriteString(delimiter)
	if e.Summary != "" {
		buf.WriteString(e.Summary)
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}

var errInvalidUTF8 = errors.New("text is not valid UTF-8")

func checkUTF8(e Event) error {
	texts := []string{e.ID, e.Date, e.Title, e.Status, e.Summary}
	texts = append(texts, e.Actors...)
	texts = append(texts, e.Tags...)
	for _, s := range e.Sources {
		texts = append(texts, s.URL, s.Title, s.Publisher, s.Date, s.ArchiveURL)
	}
	for _, t := range texts {
		if !utf8.ValidString(t) {
			return fmt.Errorf("%q: %w", t, errInvalidUTF8)
		}
	}
	return nil
}

// str is a string scalar. yaml.v3 quotes it by itself when YAML 1.2 would
// read it as another type or it cannot be plain (": ", " #", leading "-",
// quotes, …). Two cases are forced here: text with control characters or
// line breaks is double-quoted so it stays on one escaped line (a block
// scalar would be valid but fragile in front matter), and words YAML 1.1
// reads as booleans, numbers, dates or null are single-quoted because the
// timeline's validators use PyYAML, a YAML 1.1 reader.
func str(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	switch {
	case strings.ContainsFunc(s, needsEscape):
		n.Style = yaml.DoubleQuotedStyle
	case yaml11Special(s):
		n.Style = yaml.SingleQuotedStyle
	}
	return n
}

// date is a single-quoted date, the README's 'YYYY-MM-DD'. An unquoted date
// would be read as a timestamp, not a string.
func date(s string) *yaml.Node {
	n := str(s)
	if n.Style == 0 {
		n.Style = yaml.SingleQuotedStyle
	}
	return n
}

func integer(i int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(i)}
}

// list is a block sequence of strings; an empty one is written "[]", the
// only way YAML can write it.
func list(ss []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode}
	for _, s := range ss {
		n.Content = append(n.Content, str(s))
	}
	return n
}

func needsEscape(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\uFEFF'
}

// yaml11Words are the YAML 1.1 booleans and nulls that YAML 1.2 reads as
// strings (https://yaml.org/type/bool.html, https://yaml.org/type/null.html).
var yaml11Words = map[string]bool{
	"y": true, "n": true, "yes": true, "no": true, "on": true, "off": true,
	"true": true, "false": true, "null": true, "~": true, "=": true, "<<": true,
}

// yaml11Number matches what could be a YAML 1.1 int, float, sexagesimal or
// timestamp: no space, starts like a number, only number-ish characters.
var yaml11Number = regexp.MustCompile(`^[-+.]?[0-9.][0-9a-fA-FxXoObB_.:+-]*$`)

func yaml11Special(s string) bool {
	return yaml11Words[strings.ToLower(s)] || yaml11Number.MatchString(s) ||
		strings.EqualFold(s, ".inf") || strings.EqualFold(s, ".nan") ||
		strings.EqualFold(s, "-.inf") || strings.EqualFold(s, "+.inf")
}
