package timeline

// This file checks event files against every rule of the strict common form
// in ../shared/timeline/README.md. It walks yaml.v3 nodes rather than decoded
// values because quoting, field order and block style are rules too, and a
// problem needs its line. It is about 300 lines because each rule is a few.

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Problem is one broken rule (or, when Warning is set, one unmet
// recommendation) of one event file.
type Problem struct {
	File    string // the file's base name
	Line    int    // 1-based line in File; 0 when it concerns the whole file
	Rule    string // one of the Rule… or Warn… constants
	Msg     string
	Warning bool // a recommendation of the README, not a rule of the strict form
}

// String formats p as "file:line: rule: msg", with "warning: " before the
// rule for warnings.
func (p Problem) String() string {
	kind := ""
	if p.Warning {
		kind = "warning: "
	}
	return fmt.Sprintf("%s:%d: %s%s: %s", p.File, p.Line, kind, p.Rule, p.Msg)
}

// HasErrors reports whether any problem is not a warning.
func HasErrors(ps []Problem) bool {
	return slices.ContainsFunc(ps, func(p Problem) bool { return !p.Warning })
}

// Rules of the strict common form, as Problem.Rule.
const (
	RuleFileName       = "file-name"        // name is <id>.md
	RuleFrontMatter    = "front-matter"     // --- framing and YAML syntax
	RuleFieldMissing   = "field-missing"    // every front matter field is present
	RuleFieldOrder     = "field-order"      // id, date, title, importance, status, actors, tags, sources
	RuleFieldDuplicate = "field-duplicate"  // a field appears once
	RuleFieldType      = "field-type"       // a field has its YAML type (string, integer, list, map)
	RuleIDForm         = "id-form"          // YYYY-MM-DD--slug, slug [a-z0-9-]
	RuleIDDate         = "id-date"          // the id's date prefix equals date
	RuleDateQuoted     = "date-quoted"      // date is quoted (single or double), so YAML reads a string
	RuleDateValid      = "date-valid"       // date is a real YYYY-MM-DD day
	RuleTitleLength    = "title-length"     // 10 to 200 characters
	RuleImportance     = "importance-range" // integer 1 to 10
	RuleStatus         = "status-value"     // one of the five statuses
	RuleStatusFuture   = "status-future"    // a future event is not confirmed
	RuleListBlock      = "list-block"       // actors, tags and sources are block lists
	RuleListSorted     = "list-sorted"      // actors and tags are sorted
	RuleTagForm        = "tag-form"         // tags are lowercase-hyphenated
	RuleSourcesSorted  = "sources-sorted"   // by tier, then title
	RuleSourceKeys     = "source-keys"      // url, title, publisher, date, tier[, archive_url]
	RuleSourceURL      = "source-url"       // url and archive_url are http(s)
	RuleSourceDate     = "source-date"      // quoted, valid YYYY-MM-DD
	RuleSourceTier     = "source-tier"      // integer 1 to 3
	RuleBodyLength     = "body-length"      // the summary has at least 50 characters
)

// Recommendations of the README, reported as warnings.
const (
	WarnFewActors  = "actors-few"    // at least 2 actors recommended
	WarnFewTags    = "tags-few"      // at least 3 tags recommended
	WarnFewSources = "sources-few"   // at least 2 sources recommended
	WarnFieldExtra = "field-unknown" // a field the README does not define
)

var (
	fieldOrder  = []string{"id", "date", "title", "importance", "status", "actors", "tags", "sources"}
	sourceOrder = []string{"url", "title", "publisher", "date", "tier", "archive_url"}
	yamlLineRe  = regexp.MustCompile(`line ([0-9]+)`)
)

// Validator checks event files. Today decides which events are in the
// future; the zero value uses the clock at each call. A Validator is safe for
// concurrent use.
type Validator struct {
	Today time.Time
}

// Validate checks one event file against every rule of the README, with the
// current time as "today". See Validator.Validate.
func Validate(name string, data []byte) []Problem { return Validator{}.Validate(name, data) }

// ValidateDir checks every *.md file of dir with the current time as
// "today". See Validator.ValidateDir.
func ValidateDir(dir string) ([]Problem, error) { return Validator{}.ValidateDir(dir) }

// ValidateDir checks every regular *.md file directly in dir (not in
// subdirectories), in name order. It fails only when dir cannot be listed; a
// file that cannot be read is reported as a Problem of RuleFrontMatter.
func (v Validator) ValidateDir(dir string) ([]Problem, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("validate timeline dir: %w", err)
	}
	var ps []Problem
	for _, de := range entries {
		if !de.Type().IsRegular() || !strings.HasSuffix(de.Name(), ".md") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, de.Name()))
		if err != nil {
			ps = append(ps, Problem{File: de.Name(), Rule: RuleFrontMatter, Msg: err.Error()})
			continue
		}
		ps = append(ps, v.Validate(de.Name(), data)...)
	}
	return ps, nil
}

// Validate checks one event file, named name (only its base name counts),
// and returns every problem found, in file order as far as possible; nil
// means the file is in the strict common form and meets every
// recommendation. It never panics, whatever data holds.
func (v Validator) Validate(name string, data []byte) []Problem {
	today := v.Today
	if today.IsZero() {
		today = time.Now()
	}
	c := &checker{file: filepath.Base(name), lineOff: 1, today: today}
	c.check(data)
	return c.ps
}

type checker struct {
	file    string
	lineOff int // front matter line 1 is file line 2
	today   time.Time
	ps      []Problem
}

func (c *checker) add(line int, rule, format string, args ...any) {
	c.ps = append(c.ps, Problem{File: c.file, Line: line, Rule: rule, Msg: fmt.Sprintf(format, args...)})
}

func (c *checker) warn(line int, rule, format string, args ...any) {
	c.add(line, rule, format, args...)
	c.ps[len(c.ps)-1].Warning = true
}

// at is the file line of a front matter node.
func (c *checker) at(n *yaml.Node) int { return n.Line + c.lineOff }

func (c *checker) check(data []byte) {
	stem, isMD := strings.CutSuffix(c.file, ".md")
	if !isMD {
		c.add(0, RuleFileName, "file name %q does not end in .md", c.file)
	}
	front, body, bodyLine, err := split(data)
	if err != nil {
		c.add(1, RuleFrontMatter, "%v", err)
		return
	}
	root, err := decodeFront(front)
	if err != nil {
		line := 1
		if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
			n, _ := strconv.Atoi(m[1]) // digits only, so Atoi fails only on overflow, leaving line 1
			line = n + c.lineOff
		}
		if !errors.Is(err, ErrNotMapping) {
			err = fmt.Errorf("yaml: %w", err)
		}
		c.add(line, RuleFrontMatter, "%v", err)
		return
	}
	f := c.fields(root)

	id, idOK := c.str(f, "id")
	date, dateOK := c.date(f, "date", RuleDateQuoted, RuleDateValid)
	if idOK {
		m := idRe.FindStringSubmatch(id)
		switch {
		case m == nil:
			c.add(c.at(f["id"]), RuleIDForm, "id %q is not YYYY-MM-DD--slug with a slug of [a-z0-9-]", id)
		case dateOK && m[1] != date:
			c.add(c.at(f["id"]), RuleIDDate, "id date %s differs from date %s", m[1], date)
		}
		if isMD && stem != id {
			c.add(0, RuleFileName, "file name %q is not the id plus .md (%s.md)", c.file, id)
		}
	}
	if title, ok := c.str(f, "title"); ok {
		if n := utf8.RuneCountInString(title); n < minTitle || n > maxTitle {
			c.add(c.at(f["title"]), RuleTitleLength, "title has %d characters, want %d to %d", n, minTitle, maxTitle)
		}
	}
	if n := f["importance"]; n != nil {
		var imp int
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&imp) != nil {
			c.add(c.at(n), RuleFieldType, "importance %q is not an integer", n.Value)
		} else if imp < minImportance || imp > maxImportance {
			c.add(c.at(n), RuleImportance, "importance %d is not in %d to %d", imp, minImportance, maxImportance)
		}
	}
	if status, ok := c.str(f, "status"); ok {
		switch {
		case !slices.Contains(statuses, status):
			c.add(c.at(f["status"]), RuleStatus, "status %q is not one of %s", status, strings.Join(statuses, ", "))
		case status == StatusConfirmed && dateOK && isFuture(date, c.today):
			c.add(c.at(f["status"]), RuleStatusFuture, "event dated %s is in the future, so it cannot be confirmed", date)
		}
	}
	if actors := c.strList(f, "actors"); actors != nil && len(actors.Content) < 2 {
		c.warn(c.at(actors), WarnFewActors, "%d actors, at least 2 recommended", len(actors.Content))
	}
	if tags := c.strList(f, "tags"); tags != nil {
		for _, t := range tags.Content {
			if t.Kind == yaml.ScalarNode && !tagRe.MatchString(t.Value) {
				c.add(c.at(t), RuleTagForm, "tag %q is not lowercase-hyphenated", t.Value)
			}
		}
		if len(tags.Content) < 3 {
			c.warn(c.at(tags), WarnFewTags, "%d tags, at least 3 recommended", len(tags.Content))
		}
	}
	c.sources(f["sources"])

	if n := utf8.RuneCountInString(strings.TrimSpace(string(body))); n < minBody {
		c.add(bodyLine, RuleBodyLength, "summary has %d characters, want at least %d", n, minBody)
	}
}

// fields indexes the front matter mapping and checks the set and order of
// its keys.
func (c *checker) fields(root *yaml.Node) map[string]*yaml.Node {
	f := map[string]*yaml.Node{}
	last := -1
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		idx := slices.Index(fieldOrder, k.Value)
		switch {
		case f[k.Value] != nil:
			c.add(c.at(k), RuleFieldDuplicate, "field %q appears again", k.Value)
			continue
		case idx < 0:
			c.warn(c.at(k), WarnFieldExtra, "field %q is not one of the README's fields", k.Value)
			continue
		case idx < last:
			c.add(c.at(k), RuleFieldOrder, "field %q comes after %q; the order is %s", k.Value, fieldOrder[last], strings.Join(fieldOrder, ", "))
		default:
			last = idx
		}
		f[k.Value] = v
	}
	for _, name := range fieldOrder {
		if f[name] == nil {
			c.add(0, RuleFieldMissing, "field %q is missing", name)
		}
	}
	return f
}

// str returns field name of f when it is a string scalar, reporting a type
// problem when it is something else.
func (c *checker) str(f map[string]*yaml.Node, name string) (string, bool) {
	n := f[name]
	if n == nil {
		return "", false
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		c.add(c.at(n), RuleFieldType, "%s is not a string", name)
		return "", false
	}
	return n.Value, true
}

// date checks a quoted YYYY-MM-DD date field and returns it when valid.
func (c *checker) date(f map[string]*yaml.Node, name, quotedRule, validRule string) (string, bool) {
	n := f[name]
	if n == nil {
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		c.add(c.at(n), RuleFieldType, "%s is not a scalar", name)
		return "", false
	}
	if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) == 0 {
		c.add(c.at(n), quotedRule, "%s %s is not quoted (write '%s')", name, n.Value, n.Value)
	}
	if !validDate(n.Value) {
		c.add(c.at(n), validRule, "%s %q is not a valid YYYY-MM-DD date", name, n.Value)
		return "", false
	}
	return n.Value, true
}

// list checks that field name is a block sequence and returns it, or nil.
// An empty "[]" passes: YAML has no block form of an empty list.
func (c *checker) list(f map[string]*yaml.Node, name string) *yaml.Node {
	n := f[name]
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		c.add(c.at(n), RuleFieldType, "%s is not a list", name)
		return nil
	}
	if n.Style&yaml.FlowStyle != 0 && len(n.Content) > 0 {
		c.add(c.at(n), RuleListBlock, "%s is a flow list [...]; write one \"- item\" line each", name)
	}
	return n
}

// strList checks a sorted block list of strings (actors, tags).
func (c *checker) strList(f map[string]*yaml.Node, name string) *yaml.Node {
	n := c.list(f, name)
	if n == nil {
		return nil
	}
	for i, it := range n.Content {
		if it.Kind != yaml.ScalarNode || it.ShortTag() != "!!str" {
			c.add(c.at(it), RuleFieldType, "%s item %d is not a string", name, i+1)
			continue
		}
		if i > 0 && it.Value < n.Content[i-1].Value {
			c.add(c.at(it), RuleListSorted, "%s are not sorted: %q comes after %q", name, it.Value, n.Content[i-1].Value)
		}
	}
	return n
}

// sources checks the sources list, each source and their order.
func (c *checker) sources(n *yaml.Node) {
	list := c.list(map[string]*yaml.Node{"sources": n}, "sources")
	if list == nil {
		return
	}
	var prev *sourceKey
	for i, it := range list.Content {
		if it.Kind != yaml.MappingNode {
			c.add(c.at(it), RuleFieldType, "source %d is not a map", i+1)
			continue
		}
		k := c.source(i+1, it)
		if prev != nil && (k.tier < prev.tier || k.tier == prev.tier && k.title < prev.title) {
			c.add(c.at(it), RuleSourcesSorted, "source %d (tier %d, %q) comes after (tier %d, %q); sort by tier, then title", i+1, k.tier, k.title, prev.tier, prev.title)
		}
		prev = &k
	}
	if len(list.Content) < 2 {
		c.warn(c.at(list), WarnFewSources, "%d sources, at least 2 recommended", len(list.Content))
	}
}

// source checks one source map and returns its sort key; an invalid tier
// sorts last.
func (c *checker) source(num int, m *yaml.Node) sourceKey {
	k := sourceKey{tier: 4}
	var keys []string
	f := map[string]*yaml.Node{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		keys = append(keys, m.Content[i].Value)
		f[m.Content[i].Value] = m.Content[i+1]
	}
	if want := sourceOrder[:len(sourceOrder)-1]; !slices.Equal(keys, want) && !slices.Equal(keys, sourceOrder) {
		c.add(c.at(m), RuleSourceKeys, "source %d has keys %s, want %s and optionally archive_url", num, strings.Join(keys, ", "), strings.Join(want, ", "))
	}
	for _, name := range []string{"url", "archive_url"} {
		if u, ok := c.str(f, name); ok && !isHTTPURL(u) {
			c.add(c.at(f[name]), RuleSourceURL, "source %d %s %q is not an http or https URL", num, name, u)
		}
	}
	k.title, _ = c.str(f, "title")
	c.str(f, "publisher")
	c.date(f, "date", RuleSourceDate, RuleSourceDate)
	if n := f["tier"]; n != nil {
		var tier int
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&tier) != nil || tier < 1 || tier > 3 {
			c.add(c.at(n), RuleSourceTier, "source %d tier %q is not 1, 2 or 3", num, n.Value)
		} else {
			k.tier = tier
		}
	}
	return k
}

// sourceKey is what sources are sorted by.
type sourceKey struct {
	tier  int
	title string
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
