package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
)

// Field names, in the order hits are reported.
var fieldNames = []string{"title", "summary", "content", "vendor", "agency", "description"}

const defaultExcludeWithin = 4

// Matcher finds which rules an item satisfies. It compiles every alias,
// exclusion and keyword of every rule into one automaton, so matching an
// item scans each field once, and then evaluates only the rules whose
// terms were found. A Matcher is immutable and safe for concurrent use.
type Matcher struct {
	ac       *automaton
	pats     []pattern
	concepts []concept
	entities map[string]*config.Entity
	rules    []compiledRule
	byName   map[string]int
	// conceptRules[c] lists the rules having concept c in a positive clause.
	conceptRules [][]int32
	// ids maps an upper-cased UEI or CAGE to entity concepts.
	ids map[string][]int32
	// fieldMask is the union of the fields any rule reads.
	fieldMask uint8
}

// pattern is one distinct search string of the automaton.
type pattern struct {
	term     string // as first written in the config
	cased    string // when set, the case-kept normalised form the text must show
	prefix   bool   // trailing "*": no word boundary needed at the end
	concepts []int32
	excludes []int32 // entity concepts whose nearby mentions this cancels
}

// concept is what a hit stands for: an entity, or one keyword.
type concept struct {
	entity string // entity id; "" for a keyword
	within int    // exclusion distance in words (entities)
}

type compiledRule struct {
	cfg    config.Rule
	fields uint8
	all    []compiledClause
	any    []compiledClause
	none   []compiledClause
	weight float64
}

type compiledClause struct {
	concepts []int32 // sorted
	with     []int32 // sorted; when set, a hit counts only near one of these
	near     int
}

// rawHit is a hit in normalised coordinates before rule evaluation.
type rawHit struct {
	concept int32
	pat     int32
	field   int
	start   int // normalised offsets
	end     int
	word    int
	hit     model.Hit
}

// NewMatcher compiles w. It returns an error listing w's problems when
// w.Validate finds any.
func NewMatcher(w config.Watch) (*Matcher, error) {
	if ps := w.Validate(); len(ps) > 0 {
		return nil, fmt.Errorf("compile watch rules: %w", config.Problems(ps))
	}
	m := &Matcher{
		entities: map[string]*config.Entity{},
		byName:   map[string]int{},
		ids:      map[string][]int32{},
	}
	patIndex := map[string]int32{}
	var patStrings []string
	addPattern := func(term string, cased bool) int32 {
		t := strings.TrimSpace(term)
		prefix := strings.HasSuffix(t, "*")
		t = strings.TrimSpace(strings.TrimSuffix(t, "*"))
		folded := strings.TrimSpace(Normalize(t))
		var casedForm string
		if cased {
			n := normalize(t, false)
			casedForm = strings.TrimSpace(n.norm)
		}
		key := fmt.Sprintf("%t\x00%s\x00%s", prefix, folded, casedForm)
		if id, ok := patIndex[key]; ok {
			return id
		}
		id := int32(len(m.pats))
		patIndex[key] = id
		m.pats = append(m.pats, pattern{term: term, cased: casedForm, prefix: prefix})
		patStrings = append(patStrings, folded)
		return id
	}
	entityConcept := map[string]int32{}
	for i := range w.Entities {
		e := &w.Entities[i]
		m.entities[e.ID] = e
		c := int32(len(m.concepts))
		within := e.ExcludeWithin
		if within == 0 {
			within = defaultExcludeWithin
		}
		m.concepts = append(m.concepts, concept{entity: e.ID, within: within})
		entityConcept[e.ID] = c
		for _, a := range e.Aliases {
			p := addPattern(a, false)
			m.pats[p].concepts = appendUnique(m.pats[p].concepts, c)
		}
		for _, a := range e.Cased {
			p := addPattern(a, true)
			m.pats[p].concepts = appendUnique(m.pats[p].concepts, c)
		}
		for _, x := range e.Exclude {
			p := addPattern(x, false)
			m.pats[p].excludes = appendUnique(m.pats[p].excludes, c)
		}
		for _, id := range append(slices.Clone(e.UEI), e.CAGE...) {
			k := strings.ToUpper(strings.TrimSpace(id))
			m.ids[k] = appendUnique(m.ids[k], c)
		}
	}
	groups := map[string][]string{}
	for _, g := range w.Groups {
		groups[g.ID] = g.Members
	}
	keywordConcept := map[int32]int32{} // pattern -> keyword concept
	terms := func(any, cased []string) []int32 {
		var cs []int32
		addKeyword := func(term string, cased bool) {
			p := addPattern(term, cased)
			c, ok := keywordConcept[p]
			if !ok {
				c = int32(len(m.concepts))
				m.concepts = append(m.concepts, concept{})
				keywordConcept[p] = c
				m.pats[p].concepts = appendUnique(m.pats[p].concepts, c)
			}
			cs = appendUnique(cs, c)
		}
		for _, t := range any {
			if config.IsRef(t) {
				for _, id := range expand(t, groups, map[string]bool{}) {
					cs = appendUnique(cs, entityConcept[id])
				}
				continue
			}
			addKeyword(t, false)
		}
		for _, t := range cased {
			addKeyword(t, true)
		}
		slices.Sort(cs)
		return cs
	}
	clause := func(cl config.Clause) compiledClause {
		return compiledClause{concepts: terms(cl.Any, cl.Cased), with: terms(cl.With, nil), near: cl.Near}
	}
	for i, r := range w.Rules {
		cr := compiledRule{cfg: r, weight: r.Weight}
		if cr.weight == 0 {
			cr.weight = 1
		}
		fields := r.Fields
		if len(fields) == 0 {
			fields = config.DefaultFields
		}
		for _, f := range fields {
			cr.fields |= 1 << slices.Index(fieldNames, f)
		}
		m.fieldMask |= cr.fields
		for _, c := range r.All {
			cr.all = append(cr.all, clause(c))
		}
		for _, c := range r.Any {
			cr.any = append(cr.any, clause(c))
		}
		for _, c := range r.None {
			cr.none = append(cr.none, clause(c))
		}
		m.byName[r.Name] = i
		m.rules = append(m.rules, cr)
	}
	m.conceptRules = make([][]int32, len(m.concepts))
	for i, r := range m.rules {
		for _, cl := range slices.Concat(r.all, r.any) {
			for _, c := range cl.concepts {
				m.conceptRules[c] = appendUnique(m.conceptRules[c], int32(i))
			}
		}
	}
	m.ac = buildAutomaton(patStrings)
	return m, nil
}

// expand returns the entity ids a reference stands for.
func expand(id string, groups map[string][]string, seen map[string]bool) []string {
	members, ok := groups[id]
	if !ok {
		return []string{id}
	}
	if seen[id] {
		return nil
	}
	seen[id] = true
	var out []string
	for _, mem := range members {
		out = append(out, expand(mem, groups, seen)...)
	}
	return out
}

func appendUnique[T comparable](s []T, v T) []T {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// Rule returns the configured rule named name.
func (m *Matcher) Rule(name string) (config.Rule, bool) {
	i, ok := m.byName[name]
	if !ok {
		return config.Rule{}, false
	}
	return m.rules[i].cfg, true
}

// EntityName returns the display name of an entity id: its Name, else the
// part after the colon; "" for an unknown id.
func (m *Matcher) EntityName(id string) string {
	e, ok := m.entities[id]
	if !ok {
		return ""
	}
	if e.Name != "" {
		return e.Name
	}
	_, name, _ := strings.Cut(id, ":")
	return name
}

// Terms returns the number of distinct search strings compiled.
func (m *Matcher) Terms() int { return len(m.pats) }

// fieldText returns the text of field f of it ("" when absent). Vendor
// names are joined with "; " and the agency path with " > "; hit offsets of
// those fields refer to the joined strings.
func fieldText(it *model.Item, f int) string {
	switch fieldNames[f] {
	case "title":
		return it.Title
	case "summary":
		return it.Summary
	case "content":
		return it.Content
	}
	if it.Record == nil {
		return ""
	}
	switch fieldNames[f] {
	case "vendor":
		names := make([]string, len(it.Record.Vendors))
		for i, v := range it.Record.Vendors {
			names[i] = v.Name
		}
		return strings.Join(names, "; ")
	case "agency":
		return strings.Join(it.Record.AgencyPath, " > ")
	case "description":
		return it.Record.Description
	}
	return ""
}

// Match returns the rules it satisfies, in configuration order, each with
// every hit that made a positive clause hold. Hit offsets are byte offsets
// into the field's original text (Item.Title etc., or the joined vendor and
// agency strings), so it.Title[h.Start:h.End] == h.Text; identifier hits
// (Field "vendor", Term "uei:…" or "cage:…") cover the identifier itself.
// Match never modifies it and returns nil when nothing matched.
func (m *Matcher) Match(it *model.Item) []model.Match {
	if it == nil {
		return nil
	}
	var hits []rawHit
	for f := range fieldNames {
		if m.fieldMask&(1<<f) == 0 {
			continue
		}
		src := fieldText(it, f)
		if src == "" {
			continue
		}
		hits = append(hits, m.scanField(src, f)...)
	}
	if m.fieldMask&(1<<slices.Index(fieldNames, "vendor")) != 0 && it.Record != nil && len(m.ids) > 0 {
		for _, v := range it.Record.Vendors {
			for _, id := range []struct{ kind, v string }{{"uei", v.UEI}, {"cage", v.CAGE}} {
				k := strings.ToUpper(strings.TrimSpace(id.v))
				if k == "" {
					continue
				}
				for _, c := range m.ids[k] {
					hits = append(hits, rawHit{concept: c, pat: -1, field: 3, hit: model.Hit{
						Term: id.kind + ":" + k, Entity: m.concepts[c].entity, Field: "vendor",
						Start: 0, End: len(id.v), Text: id.v,
					}})
				}
			}
		}
	}
	if len(hits) == 0 {
		return nil
	}
	var touched []int32
	for _, h := range hits {
		for _, r := range m.conceptRules[h.concept] {
			touched = appendUnique(touched, r)
		}
	}
	slices.Sort(touched)
	var out []model.Match
	for _, ri := range touched {
		r := &m.rules[ri]
		if got, ok := r.eval(hits); ok {
			out = append(out, model.Match{
				Rule: r.cfg.Name, ItemKey: it.Key, Source: it.Source,
				Weight: r.weight, Hits: got,
			})
		}
	}
	return out
}

// scanField finds the entity and keyword hits of one field, with
// exclusions applied.
func (m *Matcher) scanField(src string, f int) []rawHit {
	nt := normalize(src, true)
	var hits, excl []rawHit
	m.ac.scan(nt.norm, func(id int32, a, b int) {
		p := &m.pats[id]
		if !boundaryBefore(nt.norm, a) && startsWord(nt.norm, a) {
			return
		}
		if !p.prefix && !boundaryAfter(nt.norm, b) && endsWord(nt.norm, b) {
			return
		}
		s, e := nt.span(a, b)
		if p.cased != "" && strings.TrimSpace(normalize(src[s:e], false).norm) != p.cased {
			return
		}
		h := rawHit{pat: id, field: f, start: a, end: b, hit: model.Hit{
			Term: p.term, Field: fieldNames[f], Start: s, End: e, Text: src[s:e],
		}}
		if len(p.excludes) > 0 {
			excl = append(excl, h)
		}
		for _, c := range p.concepts {
			h.concept = c
			h.hit.Entity = m.concepts[c].entity
			hits = append(hits, h)
		}
	})
	if len(hits) == 0 {
		return nil
	}
	starts := wordStarts(nt.norm)
	for i := range hits {
		hits[i].word = wordAt(starts, hits[i].start)
	}
	if len(excl) == 0 {
		return hits
	}
	return slices.DeleteFunc(hits, func(h rawHit) bool {
		within := m.concepts[h.concept].within
		for _, x := range excl {
			if !slices.Contains(m.pats[x.pat].excludes, h.concept) {
				continue
			}
			if x.start < h.end && h.start < x.end {
				return true
			}
			if abs(wordAt(starts, x.start)-h.word) <= within {
				return true
			}
		}
		return false
	})
}

// startsWord reports whether the byte at i begins with a word rune (only
// then does a term need a boundary before it).
func startsWord(s string, i int) bool { return !boundaryAfter(s, i) }

// endsWord reports whether the rune ending at i is a word rune.
func endsWord(s string, i int) bool { return !boundaryBefore(s, i) }
