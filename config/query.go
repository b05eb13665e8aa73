package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

// Query is what a procurement, register or page source asks its peer for.
// The adapters put into the request what the API can filter on (see each
// field) and leave everything else to the watch rules, so a Query narrows
// traffic and never decides relevance on its own.
//
//	query:
//	  api_key: env:SAM_API_KEY        # SAM.gov only; sent as ?api_key=, always redacted
//	  agencies: [HOMELAND SECURITY, DEPARTMENT OF]
//	  vendors: [Palantir Technologies]
//	  uei: [ABCDEFGH1234]
//	  keywords: [detention]
//	  naics: ["541512"]
//	  psc: [D302]
//	  notice_types: [a, o]            # sam_opportunities ptype codes
//	  award_type_codes: [A, B, C, D]  # usaspending
//	  lookback: 168h                  # first window reaches this far back
//	  overlap: 24h                    # each window re-reads this much of the last
//	  page_size: 100
//	  selectors: {list: article, title: h2, link: a, date: time, summary: p}
//	  date_layout: "January 2, 2006"
type Query struct {
	// APIKey is the SAM.gov key (sam_opportunities, sam_awards); other
	// APIs take none.
	APIKey Secret `yaml:"api_key"`
	// Agencies are department or sub-tier names as the API spells them.
	Agencies []string `yaml:"agencies"`
	// Vendors are awardee names; UEI their Unique Entity IDs.
	Vendors []string `yaml:"vendors"`
	UEI     []string `yaml:"uei"`
	// Keywords are free-text terms (a title search on SAM.gov).
	Keywords []string `yaml:"keywords"`
	NAICS    []string `yaml:"naics"`
	PSC      []string `yaml:"psc"`
	// NoticeTypes are SAM.gov procurement type codes (ptype): u, p, a, r,
	// s, o, g, k, i.
	NoticeTypes []string `yaml:"notice_types"`
	// AwardTypeCodes are USAspending award type codes; default A, B, C, D
	// (contracts).
	AwardTypeCodes []string `yaml:"award_type_codes"`
	// Subawards asks USAspending for subawards instead of prime awards.
	Subawards bool `yaml:"subawards"`

	// Lookback is how far back the first window starts; default 168h.
	Lookback time.Duration `yaml:"lookback"`
	// Overlap is how much of the last read window the next one repeats, so
	// records published late for their date are not missed; default 24h.
	Overlap time.Duration `yaml:"overlap"`
	// PageSize is records per request; 0 takes the API's maximum.
	PageSize int `yaml:"page_size"`

	// Selectors and DateLayout read a page source.
	Selectors  Selectors `yaml:"selectors"`
	DateLayout string    `yaml:"date_layout"`
}

// Selectors are the CSS selectors of a page source: List selects each
// entry, the others are evaluated inside an entry. Link defaults to the
// first a[href] of the entry (or the title's), Date to the first
// time element.
type Selectors struct {
	List    string `yaml:"list"`
	Title   string `yaml:"title"`
	Link    string `yaml:"link"`
	Date    string `yaml:"date"`
	Summary string `yaml:"summary"`
}

// QueryValue returns the source's query, or the zero Query when it has
// none.
func (s *Source) QueryValue() Query {
	if s.Query == nil {
		return Query{}
	}
	return *s.Query
}

// Default query windows.
const (
	DefaultLookback = 7 * 24 * time.Hour
	DefaultOverlap  = 24 * time.Hour
)

// defaultURLs are the public endpoints of each API, used when a source
// leaves url empty.
var defaultURLs = map[string]string{
	model.SourceSAMOpportunities: "https://api.sam.gov/opportunities/v2/search",
	model.SourceSAMAwards:        "https://api.sam.gov/contract-awards/v1/search",
	model.SourceUSAspending:      "https://api.usaspending.gov/api/v2/search/spending_by_award/",
	model.SourceFederalRegister:  "https://www.federalregister.gov/api/v1/documents.json",
	model.SourceFPDSAtom:         "https://www.fpds.gov/ezsearch/FEEDS/ATOM",
}

// DefaultURL returns the endpoint a source of type typ polls when its url
// is empty, or "" for types without one (feed, page).
func DefaultURL(typ string) string { return defaultURLs[typ] }

// maxPageSize is each API's documented page limit: SAM.gov opportunities
// v2 "limit" up to 1000, contract awards v1 up to 100, USAspending
// spending_by_award up to 100, the Federal Register per_page up to 1000.
// FPDS ATOM pages are fixed at 10 and not configurable.
var maxPageSize = map[string]int{
	model.SourceSAMOpportunities: 1000,
	model.SourceSAMAwards:        100,
	model.SourceUSAspending:      100,
	model.SourceFederalRegister:  1000,
}

// PageLimit returns the records to ask for per request from an API of
// typ: the configured page_size, else the API's maximum (0 when its page
// size is not configurable).
func (q Query) PageLimit(typ string) int {
	if q.PageSize > 0 {
		return q.PageSize
	}
	return maxPageSize[typ]
}

// samNoticeTypes are the ptype codes of the Get Opportunities API.
var samNoticeTypes = map[string]bool{
	"u": true, "p": true, "a": true, "r": true, "s": true, "o": true, "g": true, "k": true, "i": true,
}

// Validate checks the query of a source of type typ polling rawURL. Key
// paths are relative to the query.
func (q *Query) Validate(typ, rawURL string) []Problem {
	var ps []Problem
	add := func(path, format string, args ...any) {
		ps = append(ps, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	isFile := strings.HasPrefix(rawURL, "file:")
	isSAM := typ == model.SourceSAMOpportunities || typ == model.SourceSAMAwards
	if q.APIKey.IsSet() && !isSAM {
		add("api_key", "only sam_opportunities and sam_awards sources take an API key")
	}
	if isSAM && !isFile && !q.APIKey.IsSet() {
		add("api_key", "SAM.gov requires an API key (env:NAME or file:/path)")
	}
	if q.Lookback < 0 {
		add("lookback", "must not be negative")
	}
	if q.Overlap < 0 {
		add("overlap", "must not be negative")
	}
	if q.PageSize < 0 {
		add("page_size", "must not be negative")
	} else if m := maxPageSize[typ]; q.PageSize > 0 && (m == 0 || q.PageSize > m) {
		if m == 0 {
			add("page_size", "is not configurable for %s sources", typ)
		} else {
			add("page_size", "must be at most %d for %s sources, not %d", m, typ, q.PageSize)
		}
	}
	for i, t := range q.NoticeTypes {
		if typ != model.SourceSAMOpportunities {
			add("notice_types", "only sam_opportunities sources take notice types")
			break
		}
		if !samNoticeTypes[t] {
			add(fmt.Sprintf("notice_types[%d]", i), "unknown SAM.gov notice type %q (want u, p, a, r, s, o, g, k or i)", t)
		}
	}
	if len(q.AwardTypeCodes) > 0 && typ != model.SourceUSAspending {
		add("award_type_codes", "only usaspending sources take award type codes")
	}
	if q.Subawards && typ != model.SourceUSAspending {
		add("subawards", "only usaspending sources have subawards")
	}
	for i, u := range q.UEI {
		if len(strings.TrimSpace(u)) != 12 {
			add(fmt.Sprintf("uei[%d]", i), "a UEI has 12 characters, not %q", u)
		}
	}
	sel := q.Selectors
	switch {
	case typ == model.SourcePage:
		if sel.List == "" {
			add("selectors.list", "must be set for page sources")
		}
		if sel.Title == "" {
			add("selectors.title", "must be set for page sources")
		}
	case sel != Selectors{} || q.DateLayout != "":
		add("selectors", "only page sources take selectors and date_layout")
	}
	return ps
}
