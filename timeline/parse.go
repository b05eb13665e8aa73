package timeline

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Errors of the file's framing, returned (wrapped) by Parse.
var (
	// ErrNoFrontMatter is returned when the file does not start with a "---" line.
	ErrNoFrontMatter = errors.New("no front matter: the file must start with a --- line")
	// ErrUnclosedFrontMatter is returned when no "---" line ends the front matter.
	ErrUnclosedFrontMatter = errors.New("front matter is not closed by a --- line")
	// ErrNotMapping is returned when the front matter is not a YAML mapping.
	ErrNotMapping = errors.New("front matter is not a YAML mapping")
)

// frontMatter is the decoding target of Parse; Validate walks the YAML nodes
// instead, to see quoting, order and lines.
type frontMatter struct {
	ID         string       `yaml:"id"`
	Date       string       `yaml:"date"`
	Title      string       `yaml:"title"`
	Importance int          `yaml:"importance"`
	Status     string       `yaml:"status"`
	Actors     []string     `yaml:"actors"`
	Tags       []string     `yaml:"tags"`
	Sources    []sourceYAML `yaml:"sources"`
}

type sourceYAML struct {
	URL        string `yaml:"url"`
	Title      string `yaml:"title"`
	Publisher  string `yaml:"publisher"`
	Date       string `yaml:"date"`
	Tier       int    `yaml:"tier"`
	ArchiveURL string `yaml:"archive_url"`
}

// split cuts an event file into its front matter and body. bodyLine is the
// 1-based line of data on which the body starts. A leading UTF-8 byte order
// mark and CRLF line ends are tolerated.
func split(data []byte) (front, body []byte, bodyLine int, err error) {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	line, rest, ok := bytes.Cut(data, []byte("\n"))
	if !ok || !isDelimiter(line) {
		return nil, nil, 0, ErrNoFrontMatter
	}
	start := len(data) - len(rest)
	n := 1
	for off := start; off < len(data); {
		n++
		line, _, _ := bytes.Cut(data[off:], []byte("\n"))
		next := off + len(line) + 1
		if isDelimiter(line) {
			return data[start:off], data[min(next, len(data)):], n + 1, nil
		}
		off = next
	}
	return nil, nil, 0, ErrUnclosedFrontMatter
}

func isDelimiter(line []byte) bool {
	return string(bytes.TrimRight(line, " \t\r")) == "---"
}

// decodeFront parses the front matter into its YAML mapping node.
func decodeFront(front []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(front, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, ErrNotMapping
	}
	return doc.Content[0], nil
}

// Parse reads an event file. It is lenient where Validate is strict: field
// order, quoting and the timeline's value rules are not checked, and unknown
// fields are ignored; it fails only when the framing is wrong or a field
// cannot be read as its type (for example importance: high). The summary is
// the body without surrounding white space. Parse never panics on any input.
func Parse(data []byte) (Event, error) {
	front, body, _, err := split(data)
	if err != nil {
		return Event{}, fmt.Errorf("parse event: %w", err)
	}
	root, err := decodeFront(front)
	if err != nil {
		return Event{}, fmt.Errorf("parse event front matter: %w", err)
	}
	var fm frontMatter
	if err := root.Decode(&fm); err != nil {
		return Event{}, fmt.Errorf("parse event front matter: %w", err)
	}
	e := Event{
		ID:         fm.ID,
		Date:       fm.Date,
		Title:      fm.Title,
		Importance: fm.Importance,
		Status:     fm.Status,
		Actors:     fm.Actors,
		Tags:       fm.Tags,
		Summary:    strings.TrimSpace(strings.ToValidUTF8(string(body), "\uFFFD")),
	}
	for _, s := range fm.Sources {
		e.Sources = append(e.Sources, Source(s))
	}
	return e, nil
}

// ParseFile reads and parses the event file at path (see Parse).
func ParseFile(path string) (Event, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Event{}, fmt.Errorf("parse event file: %w", err) // the os error names the path
	}
	e, err := Parse(data)
	if err != nil {
		return Event{}, fmt.Errorf("parse event file %s: %w", path, err)
	}
	return e, nil
}
