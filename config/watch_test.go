package config

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func decodeWatch(t *testing.T, src string) (Watch, error) {
	t.Helper()
	var w Watch
	dec := yaml.NewDecoder(bytes.NewReader([]byte(src)))
	dec.KnownFields(true)
	err := dec.Decode(&w)
	return w, err
}

func TestClauseForms(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    Clause
		wantErr string
	}{
		{"scalar", "all: [company:amazon]", Clause{Any: []string{"company:amazon"}}, ""},
		{"list", "all: [[a, b]]", Clause{Any: []string{"a", "b"}}, ""},
		{"mapping", "all: [{any: [a], cased: [ICE], with: [w], near: 3}]",
			Clause{Any: []string{"a"}, Cased: []string{"ICE"}, With: []string{"w"}, Near: 3}, ""},
		{"unknown key in mapping", "all: [{anyy: [a]}]", Clause{}, "field anyy not found"},
		{"unknown rule key", "nme: x", Clause{}, "field nme not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := decodeWatch(t, "rules:\n- "+tt.yaml+"\n")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := w.Rules[0].All[0]
			if !slices.Equal(got.Any, tt.want.Any) || !slices.Equal(got.Cased, tt.want.Cased) ||
				!slices.Equal(got.With, tt.want.With) || got.Near != tt.want.Near {
				t.Errorf("clause = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestWatchValidate(t *testing.T) {
	base := `
entities:
- {id: company:amazon, aliases: [Amazon]}
- {id: agency:ice, cased: [ICE]}
groups:
- {id: agency:dhs, members: [agency:ice]}
rules:
- name: amazon-ice
  all: [company:amazon, [agency:dhs, deport*]]
`
	tests := []struct {
		name     string
		extra    string
		wantPath string // "" means valid
	}{
		{"valid", "", ""},
		{"unknown reference", "- {name: r2, all: [[x, company:nope]]}", "rules[1].all[0].any[1]"},
		{"duplicate rule", "- {name: amazon-ice, all: [x]}", "rules[1].name"},
		{"bad rule name", "- {name: Bad Name, all: [x]}", "rules[1].name"},
		{"unknown field", "- {name: r2, fields: [body], all: [x]}", "rules[1].fields[0]"},
		{"no clauses", "- {name: r2, none: [x]}", "rules[1]"},
		{"empty term", "- {name: r2, all: [[x, ' ']]}", "rules[1].all[0].any[1]"},
		{"star inside", "- {name: r2, all: ['de*port']}", "rules[1].all[0].any[0]"},
		{"near needs two all clauses", "- {name: r2, all: [x], near: 3}", "rules[1].near"},
		{"with needs near", "- {name: r2, all: [{any: [x], with: [y]}]}", "rules[1].all[0].near"},
		{"negative weight", "- {name: r2, all: [x], weight: -1}", "rules[1].weight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := decodeWatch(t, base+tt.extra+"\n")
			if err != nil {
				t.Fatal(err)
			}
			ps := w.Validate()
			if tt.wantPath == "" {
				if len(ps) > 0 {
					t.Errorf("problems = %v, want none", ps)
				}
				return
			}
			if !slices.ContainsFunc(ps, func(p Problem) bool { return p.Path == tt.wantPath }) {
				t.Errorf("problems = %v, want one at %s", ps, tt.wantPath)
			}
		})
	}
}

func TestWatchValidateEntitiesAndGroups(t *testing.T) {
	w := Watch{
		Entities: []Entity{{ID: "Amazon"}, {ID: "agency:ice", Cased: []string{"ICE"}}, {ID: "agency:ice", Aliases: []string{"x"}}},
		Groups: []Group{
			{ID: "g:a", Members: []string{"g:b"}}, {ID: "g:b", Members: []string{"g:a"}},
			{ID: "g:c", Members: []string{"agency:nope"}},
		},
	}
	want := []string{"entities[0].id", "entities[0]", "entities[2].id", "groups[0].members", "groups[1].members", "groups[2].members[0]"}
	ps := w.Validate()
	for _, p := range want {
		if !slices.ContainsFunc(ps, func(q Problem) bool { return q.Path == p }) {
			t.Errorf("no problem at %s in %v", p, ps)
		}
	}
}

func TestAppend(t *testing.T) {
	w := Watch{Rules: []Rule{{Name: "a"}}}
	w.Append(Watch{Entities: []Entity{{ID: "x:y"}}, Rules: []Rule{{Name: "b"}}})
	if len(w.Rules) != 2 || w.Rules[1].Name != "b" || len(w.Entities) != 1 {
		t.Errorf("Append = %+v", w)
	}
}

func TestTiersAndCandidatesValidate(t *testing.T) {
	tests := []struct {
		name string
		ps   []Problem
		want []string
	}{
		{"default tiers", DefaultTiers().Validate(), nil},
		{"bad tiers", Tiers{Unknown: 4, Publishers: []PublisherTier{{Tier: 0, Domains: []string{"https://x"}}}}.Validate(),
			[]string{"unknown", "publishers[0].name", "publishers[0].tier", "publishers[0].domains[0]"}},
		{"default candidates", DefaultCandidates().Validate(), nil},
		{"bad candidates", Candidates{Window: -time.Hour, TitleSimilarity: 1.5, AlertScore: 11}.Validate(),
			[]string{"window", "title_similarity", "alert_score"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range tt.ps {
				got = append(got, p.Path)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problem paths = %v, want %v", got, tt.want)
			}
		})
	}
}
