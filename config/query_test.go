package config

import (
	"strings"
	"testing"

	"github.com/tierwatch/tierwatch/model"
)

func TestQueryValidate(t *testing.T) {
	key := NewSecret("k")
	tests := []struct {
		name string
		typ  string
		url  string
		q    Query
		want []string // substrings of problem paths, in order; nil means valid
	}{
		{"sam needs key", model.SourceSAMOpportunities, "https://api.sam.gov/x", Query{}, []string{"api_key"}},
		{"sam file needs no key", model.SourceSAMAwards, "file:///x.json", Query{}, nil},
		{"sam with key", model.SourceSAMOpportunities, "https://api.sam.gov/x", Query{APIKey: key, NoticeTypes: []string{"a", "o"}}, nil},
		{"key on usaspending", model.SourceUSAspending, "https://x", Query{APIKey: key}, []string{"api_key"}},
		{"page size over limit", model.SourceSAMAwards, "file:///x", Query{PageSize: 101}, []string{"page_size"}},
		{"page size fpds", model.SourceFPDSAtom, "https://x", Query{PageSize: 10}, []string{"page_size"}},
		{"bad notice type", model.SourceSAMOpportunities, "file:///x", Query{NoticeTypes: []string{"a", "zz"}}, []string{"notice_types[1]"}},
		{"notice types elsewhere", model.SourceFederalRegister, "https://x", Query{NoticeTypes: []string{"a"}}, []string{"notice_types"}},
		{"award types elsewhere", model.SourceSAMAwards, "file:///x", Query{AwardTypeCodes: []string{"A"}}, []string{"award_type_codes"}},
		{"short uei", model.SourceSAMAwards, "file:///x", Query{UEI: []string{"ABC"}}, []string{"uei[0]"}},
		{"negative windows", model.SourceUSAspending, "https://x", Query{Lookback: -1, Overlap: -1}, []string{"lookback", "overlap"}},
		{"page needs selectors", model.SourcePage, "https://x", Query{}, []string{"selectors.list", "selectors.title"}},
		{"selectors elsewhere", model.SourceFederalRegister, "https://x", Query{Selectors: Selectors{List: "li"}}, []string{"selectors"}},
		{"page ok", model.SourcePage, "https://x", Query{Selectors: Selectors{List: "li", Title: "a"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := tt.q.Validate(tt.typ, tt.url)
			var got []string
			for _, p := range ps {
				got = append(got, p.Path)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("problems %v, want paths %v", ps, tt.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("problem %d path %q, want %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestSourceDefaultURLAndKeySecret(t *testing.T) {
	yml := `
sources:
  - name: sam
    type: sam_awards
    query:
      api_key: env:SAM_KEY
      uei: [VSBAFMDKTWL4]
  - name: fr
    type: federal_register
`
	env := func(k string) (string, bool) {
		if k == "SAM_KEY" {
			return "s3cret-value", true
		}
		return "", false
	}
	cfg, err := Parse("/tmp/c.yaml", []byte(yml), Options{LookupEnv: env})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Sources[0].URL, DefaultURL(model.SourceSAMAwards); got != want || want == "" {
		t.Errorf("sam url %q, want %q", got, want)
	}
	if got := cfg.Sources[1].URL; got != "https://www.federalregister.gov/api/v1/documents.json" {
		t.Errorf("fr url %q", got)
	}
	if got := cfg.Sources[0].Query.APIKey.Value(); got != "s3cret-value" {
		t.Errorf("api key not resolved: %q", got)
	}
	if s := cfg.Sources[0].Query.APIKey.String(); strings.Contains(s, "s3cret") {
		t.Errorf("api key leaks in String: %q", s)
	}

	_, err = Parse("/tmp/c.yaml", []byte(yml), Options{})
	if err == nil || !strings.Contains(err.Error(), "sources[0].query.api_key") {
		t.Errorf("unresolved key: got %v, want a problem at sources[0].query.api_key", err)
	}
}
