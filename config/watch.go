package config

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/tierwatch/tierwatch/model"
	"go.yaml.in/yaml/v3"
)

// This file holds the watch schema: entities, entity groups and rules (the
// part a rules pack may hold), the publisher tier table and the candidate
// grouping settings. A rules pack looks like this:
//
//	entities:
//	  - id: agency:ice                  # kind:name, lowercase
//	    name: ICE                       # display name, used as a candidate actor
//	    aliases: [Immigration and Customs Enforcement]   # case-insensitive
//	    cased: [ICE]                    # case-sensitive: "ice", "Ice Age" are not ICE
//	    exclude: [ICE futures, Intercontinental Exchange, ice cream]
//	    exclude_within: 4               # words; default 4
//	  - id: company:palantir
//	    name: Palantir
//	    aliases: [Palantir]
//	    uei: [ABCDEFGH1234]             # matched exactly against procurement vendors
//	    cage: [1ABC2]
//	groups:
//	  - id: agency:dhs
//	    name: DHS
//	    members: [agency:ice, agency:cbp] # entities or other groups
//	rules:
//	  - name: palantir-ice
//	    fields: [title, summary]        # default title, summary, content
//	    all:                            # every clause must hold
//	      - company:palantir            # a clause: one term ...
//	      - [agency:dhs, deport*]       # ... or a list of alternatives ...
//	      - any: [detention]            # ... or a mapping with any and cased
//	        cased: [ERO]
//	      - any: [social media]         # with/near: a term counts only when
//	        with: [monitor*, screen*]   # a with term is within near words
//	        near: 4
//	    any: []                         # if given, at least one clause must hold
//	    none: [stock, shares]           # no clause may hold
//	    near: 12                        # the all clauses within 12 words, one field
//	    weight: 2                       # > 0; omitted means 1
//	    tags: [palantir, ice]
//	    actors: [Palantir, ICE]
//	    route: [slack-newsroom]
//
// A term is an entity id or group id when it has the form kind:name and
// names one; otherwise it is a phrase. Phrases and aliases match whole words
// of the normalised text (see rules.Normalize): case-insensitive, hyphens and
// dashes read as spaces, curly quotes as straight ones, "Amazon's" as
// Amazon. A trailing "*" matches any word continuation ("deport*" finds
// deportation, deported). Cased terms must also match letter case.

// Watch is what a researcher writes: entities, groups of entities and the
// rules over them. The top-level config holds one inline, and every
// included rules pack holds another; Append merges them.
type Watch struct {
	Entities []Entity `yaml:"entities"`
	Groups   []Group  `yaml:"groups"`
	Rules    []Rule   `yaml:"rules"`
}

// Entity is a company or an agency that rules refer to by ID. Entities
// whose ID has the kind "topic" ("topic:deportation") are vocabulary: they
// match like any entity but are not listed as candidate actors.
type Entity struct {
	// ID is "kind:name" in lowercase ("company:amazon", "agency:ice").
	ID string `yaml:"id"`
	// Name is the display name, used as a candidate actor; default the ID's name part.
	Name string `yaml:"name"`
	// Aliases match case-insensitively; the Name is not an alias by itself.
	Aliases []string `yaml:"aliases"`
	// Cased aliases match only with the letter case written (ICE, HSI, AWS).
	Cased []string `yaml:"cased"`
	// Exclude lists phrases (case-insensitive) that cancel a mention of the
	// entity in the same field when they overlap it or lie within
	// ExcludeWithin words of it ("ICE futures", "Amazon River", "rainforest").
	Exclude []string `yaml:"exclude"`
	// ExcludeWithin is the exclusion distance in words; 0 means 4.
	ExcludeWithin int `yaml:"exclude_within"`
	// UEI and CAGE identify the company in procurement records; they match
	// vendor identifiers exactly (ignoring case and surrounding space).
	UEI  []string `yaml:"uei"`
	CAGE []string `yaml:"cage"`
}

// Group names a set of entities, so a rule can say "agency:dhs" for every
// DHS component. Members are entity or group IDs; cycles are errors.
type Group struct {
	ID      string   `yaml:"id"`
	Name    string   `yaml:"name"`
	Members []string `yaml:"members"`
}

// Rule says what makes an item worth a candidate. It fires when every All
// clause holds, at least one Any clause holds (when there are any), and no
// None clause holds, over the text of Fields.
type Rule struct {
	// Name identifies the rule in matches and candidates; unique, [a-z0-9-].
	Name string `yaml:"name"`
	// Fields are read by the rule: title, summary, content (news), vendor,
	// agency, description (procurement records). Empty means title,
	// summary and content.
	Fields []string `yaml:"fields"`
	All    []Clause `yaml:"all"`
	Any    []Clause `yaml:"any"`
	None   []Clause `yaml:"none"`
	// Near, when > 0, requires a hit of every All clause inside one window
	// of Near words in one field. Without it clauses may hold in different
	// fields.
	Near int `yaml:"near"`
	// Weight scales the candidate score (see rules.Score); 0 means 1.
	Weight float64 `yaml:"weight"`
	// Tags and Actors are added to candidates the rule matches.
	Tags   []string `yaml:"tags"`
	Actors []string `yaml:"actors"`
	// Route names the alert destinations of candidates the rule matches.
	Route []string `yaml:"route"`
}

// Clause holds when any of its terms is found. In YAML it is a single term,
// a list of terms, or a mapping with "any" (terms), "cased" (phrases that
// must match letter case) and optionally "with" and "near": then a term
// counts only when a With term is found within Near words of it in the
// same field ("social media" near "monitor*").
type Clause struct {
	Any   []string `yaml:"any"`
	Cased []string `yaml:"cased"`
	With  []string `yaml:"with"`
	Near  int      `yaml:"near"`
}

// UnmarshalYAML accepts the three clause forms; in the mapping form keys
// other than any and cased are errors (the decoder's strictness does not
// reach custom unmarshalers, so they are checked here).
func (c *Clause) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		var s string
		if err := n.Decode(&s); err != nil {
			return err
		}
		c.Any = []string{s}
		return nil
	case yaml.SequenceNode:
		return n.Decode(&c.Any)
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			var dst any
			switch k.Value {
			case "any":
				dst = &c.Any
			case "cased":
				dst = &c.Cased
			case "with":
				dst = &c.With
			case "near":
				dst = &c.Near
			default:
				return fmt.Errorf("line %d: field %s not found in clause (want any, cased, with, near)", k.Line, k.Value)
			}
			if err := v.Decode(dst); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("line %d: a clause is a term, a list of terms or a mapping", n.Line)
}

// DefaultFields are the fields a rule reads when it names none.
var DefaultFields = []string{"title", "summary", "content"}

// Fields a rule may read.
var knownFields = map[string]bool{
	"title": true, "summary": true, "content": true,
	"vendor": true, "agency": true, "description": true,
}

// Append adds o's entities, groups and rules after w's (a rules pack
// included from the main file). Duplicate IDs are left for Validate.
func (w *Watch) Append(o Watch) {
	w.Entities = append(w.Entities, o.Entities...)
	w.Groups = append(w.Groups, o.Groups...)
	w.Rules = append(w.Rules, o.Rules...)
}

var (
	refPattern  = regexp.MustCompile(`^[a-z][a-z0-9_-]*:[a-z0-9][a-z0-9._-]*$`)
	rulePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
)

// IsRef reports whether a rule term has the form of an entity or group ID.
func IsRef(term string) bool { return refPattern.MatchString(term) }

// Validate returns every problem of the watch section: malformed or
// duplicate IDs, unknown references, group cycles, empty terms and rules
// that can never fire. Paths look like "rules[2].all[0].any[1]".
func (w Watch) Validate() []Problem {
	var ps []Problem
	add := func(path, format string, args ...any) {
		ps = append(ps, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	ids := map[string]string{} // id -> path of its definition
	for i, e := range w.Entities {
		p := fmt.Sprintf("entities[%d]", i)
		if !refPattern.MatchString(e.ID) {
			add(p+".id", "must be kind:name in lowercase (company:amazon), got %q", e.ID)
		} else if prev, dup := ids[e.ID]; dup {
			add(p+".id", "%q is already defined at %s", e.ID, prev)
		} else {
			ids[e.ID] = p
		}
		if len(e.Aliases)+len(e.Cased)+len(e.UEI)+len(e.CAGE) == 0 {
			add(p, "needs at least one alias, cased alias, uei or cage")
		}
		ps = append(ps, checkTerms(p+".aliases", e.Aliases)...)
		ps = append(ps, checkTerms(p+".cased", e.Cased)...)
		ps = append(ps, checkTerms(p+".exclude", e.Exclude)...)
		if e.ExcludeWithin < 0 {
			add(p+".exclude_within", "must not be negative")
		}
		for j, u := range e.UEI {
			if strings.TrimSpace(u) == "" {
				add(fmt.Sprintf("%s.uei[%d]", p, j), "must not be empty")
			}
		}
		for j, c := range e.CAGE {
			if strings.TrimSpace(c) == "" {
				add(fmt.Sprintf("%s.cage[%d]", p, j), "must not be empty")
			}
		}
	}
	members := map[string][]string{}
	for i, g := range w.Groups {
		p := fmt.Sprintf("groups[%d]", i)
		if !refPattern.MatchString(g.ID) {
			add(p+".id", "must be kind:name in lowercase (agency:dhs), got %q", g.ID)
		} else if prev, dup := ids[g.ID]; dup {
			add(p+".id", "%q is already defined at %s", g.ID, prev)
		} else {
			ids[g.ID] = p
			members[g.ID] = g.Members
		}
		if len(g.Members) == 0 {
			add(p+".members", "must not be empty")
		}
	}
	for i, g := range w.Groups {
		for j, m := range g.Members {
			if _, ok := ids[m]; !ok {
				add(fmt.Sprintf("groups[%d].members[%d]", i, j), "unknown entity or group %q", m)
			}
		}
	}
	for i, g := range w.Groups {
		if groupCycle(g.ID, members) {
			add(fmt.Sprintf("groups[%d].members", i), "group %q contains itself", g.ID)
		}
	}
	names := map[string]int{}
	for i, r := range w.Rules {
		p := fmt.Sprintf("rules[%d]", i)
		if !rulePattern.MatchString(r.Name) {
			add(p+".name", "must be 1-64 characters of a-z, 0-9 and '-', got %q", r.Name)
		} else if j, dup := names[r.Name]; dup {
			add(p+".name", "%q is already the name of rules[%d]", r.Name, j)
		} else {
			names[r.Name] = i
		}
		for j, f := range r.Fields {
			if !knownFields[f] {
				add(fmt.Sprintf("%s.fields[%d]", p, j), "unknown field %q (want title, summary, content, vendor, agency or description)", f)
			}
		}
		if len(r.All)+len(r.Any) == 0 {
			add(p, "needs an all or any clause")
		}
		for _, part := range []struct {
			key string
			cs  []Clause
		}{{"all", r.All}, {"any", r.Any}, {"none", r.None}} {
			for j, c := range part.cs {
				cp := fmt.Sprintf("%s.%s[%d]", p, part.key, j)
				if len(c.Any)+len(c.Cased) == 0 {
					add(cp, "clause has no terms")
				}
				ps = append(ps, checkTerms(cp+".any", c.Any)...)
				ps = append(ps, checkTerms(cp+".cased", c.Cased)...)
				ps = append(ps, checkTerms(cp+".with", c.With)...)
				for _, list := range []struct {
					key   string
					terms []string
				}{{"any", c.Any}, {"with", c.With}} {
					for k, t := range list.terms {
						if IsRef(t) {
							if _, ok := ids[t]; !ok {
								add(fmt.Sprintf("%s.%s[%d]", cp, list.key, k), "unknown entity or group %q", t)
							}
						}
					}
				}
				switch {
				case c.Near < 0:
					add(cp+".near", "must not be negative")
				case len(c.With) > 0 && c.Near == 0:
					add(cp+".near", "must be set with 'with'")
				case len(c.With) == 0 && c.Near > 0:
					add(cp+".with", "must be set with 'near'")
				}
			}
		}
		if r.Near < 0 {
			add(p+".near", "must not be negative")
		}
		if r.Near > 0 && len(r.All) < 2 {
			add(p+".near", "needs at least two all clauses to relate")
		}
		if r.Weight < 0 {
			add(p+".weight", "must not be negative")
		}
		for j, t := range r.Route {
			if strings.TrimSpace(t) == "" {
				add(fmt.Sprintf("%s.route[%d]", p, j), "must not be empty")
			}
		}
	}
	return ps
}

// checkTerms reports empty terms and a "*" anywhere but at the end.
func checkTerms(path string, ts []string) []Problem {
	var ps []Problem
	for i, t := range ts {
		p := fmt.Sprintf("%s[%d]", path, i)
		body := strings.TrimSuffix(strings.TrimSpace(t), "*")
		switch {
		case strings.TrimSpace(body) == "":
			ps = append(ps, Problem{Path: p, Msg: "term must have at least one letter or digit"})
		case strings.Contains(body, "*"):
			ps = append(ps, Problem{Path: p, Msg: fmt.Sprintf("%q: '*' is allowed only at the end", t)})
		}
	}
	return ps
}

func groupCycle(start string, members map[string][]string) bool {
	seen := map[string]bool{}
	var walk func(id string) bool
	walk = func(id string) bool {
		for _, m := range members[id] {
			if m == start {
				return true
			}
			if seen[m] {
				continue
			}
			seen[m] = true
			if walk(m) {
				return true
			}
		}
		return false
	}
	return walk(start)
}

// Tiers configures the publisher tier table: entries here override the
// shipped table (see rules.NewTiers), and Unknown is the tier of a
// publisher found nowhere.
type Tiers struct {
	// Unknown is the tier of unknown publishers; default 3.
	Unknown model.Tier `yaml:"unknown"`
	// Publishers add to or override the shipped table.
	Publishers []PublisherTier `yaml:"publishers"`
}

// PublisherTier maps a publisher's names and domains to a canonical name
// and a tier. Names are compared folded (case, a leading "the" and
// punctuation ignored); domains match themselves and their subdomains.
type PublisherTier struct {
	Name    string     `yaml:"name"`
	Aliases []string   `yaml:"aliases"`
	Domains []string   `yaml:"domains"`
	Tier    model.Tier `yaml:"tier"`
}

// DefaultTiers returns the tiers section's defaults.
func DefaultTiers() Tiers { return Tiers{Unknown: 3} }

// Validate returns the problems of the tiers section.
func (t Tiers) Validate() []Problem {
	var ps []Problem
	if !t.Unknown.Valid() {
		ps = append(ps, Problem{Path: "unknown", Msg: fmt.Sprintf("must be 1, 2 or 3, not %d", t.Unknown)})
	}
	for i, p := range t.Publishers {
		path := fmt.Sprintf("publishers[%d]", i)
		if strings.TrimSpace(p.Name) == "" {
			ps = append(ps, Problem{Path: path + ".name", Msg: "must be set"})
		}
		if !p.Tier.Valid() {
			ps = append(ps, Problem{Path: path + ".tier", Msg: fmt.Sprintf("must be 1, 2 or 3, not %d", p.Tier)})
		}
		for j, d := range p.Domains {
			if d == "" || strings.ContainsAny(d, "/: ") {
				ps = append(ps, Problem{Path: fmt.Sprintf("%s.domains[%d]", path, j), Msg: fmt.Sprintf("must be a host name like nytimes.com, got %q", d)})
			}
		}
	}
	return ps
}

// Candidates tunes how matching items are grouped into candidate events
// and when they alert.
type Candidates struct {
	// Window is how far apart in time (item dates) two items with
	// near-duplicate titles may be and still join one candidate. Same URL
	// and shared procurement identifiers join regardless of time.
	Window time.Duration `yaml:"window"`
	// TitleSimilarity is the least similarity (0..1, see rules.Grouper)
	// for two titles to count as one event.
	TitleSimilarity float64 `yaml:"title_similarity"`
	// AlertScore is the score at which a candidate alerts with
	// candidate.score_threshold when a new source lifts it past it.
	AlertScore float64 `yaml:"alert_score"`
}

// DefaultCandidates returns the candidates section's defaults: a 7-day
// window and the title similarity threshold measured on the eval set.
func DefaultCandidates() Candidates {
	return Candidates{Window: 7 * 24 * time.Hour, TitleSimilarity: 0.5, AlertScore: 6}
}

// Validate returns the problems of the candidates section.
func (c Candidates) Validate() []Problem {
	var ps []Problem
	if c.Window <= 0 {
		ps = append(ps, Problem{Path: "window", Msg: "must be positive"})
	}
	if c.TitleSimilarity <= 0 || c.TitleSimilarity > 1 {
		ps = append(ps, Problem{Path: "title_similarity", Msg: fmt.Sprintf("must be in (0, 1], got %g", c.TitleSimilarity)})
	}
	if c.AlertScore < 0 || c.AlertScore > 10 {
		ps = append(ps, Problem{Path: "alert_score", Msg: fmt.Sprintf("must be in [0, 10], got %g", c.AlertScore)})
	}
	return ps
}
