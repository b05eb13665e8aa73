package usaspending

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/internal/shared"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/monitor"
	"github.com/tierwatch/tierwatch/rules"
)

var now = time.Date(2026, 2, 3, 15, 0, 0, 0, time.UTC)

// fixture reads a payload from ../shared/fixtures/procurement, skipping
// the test when the shared folder is absent.
func fixture(t testing.TB, name string) []byte {
	return shared.File(t, "fixtures/procurement/"+name)
}

// serve replays body and records the request bodies.
func serve(t *testing.T, body []byte, reqs *[]request) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("request %s %q, want a JSON POST", r.Method, r.Header.Get("Content-Type"))
		}
		b, _ := io.ReadAll(r.Body)
		var req request
		if err := json.Unmarshal(b, &req); err != nil {
			t.Errorf("request body %s: %v", b, err)
		}
		*reqs = append(*reqs, req)
		if req.Page > 1 {
			// The samples say hasNext: the pages after them are empty.
			w.Write([]byte(`{"results":[],"page_metadata":{"hasNext":false}}`))
			return
		}
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func poll(t *testing.T, src config.Source) []model.Item {
	t.Helper()
	items, err := New(nil).Poll(context.Background(), monitor.NewFetcher(monitor.FetchOptions{}, nil), src, &model.SourceState{}, now)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func TestParseNASAAwards(t *testing.T) {
	var reqs []request
	srv := serve(t, fixture(t, "usaspending_spending_by_award_contracts_nasa_2results.json"), &reqs)
	src := config.Source{Name: "usa", URL: srv.URL, Query: &config.Query{
		Agencies: []string{"National Aeronautics and Space Administration"}, Vendors: []string{"Northrop Grumman"}}}
	items := poll(t, src)
	if len(items) != 2 || len(reqs) != 2 {
		t.Fatalf("%d items in %d requests, want 2 in 2 (the sample says hasNext)", len(items), len(reqs))
	}
	req := reqs[0]
	if tp := req.Filters.TimePeriod[0]; tp.StartDate != "2026-01-27" || tp.EndDate != "2026-02-03" || tp.DateType != "last_modified_date" {
		t.Errorf("time period %+v", tp)
	}
	if strings.Join(req.Filters.AwardTypeCodes, "") != "ABCD" || req.Limit != 100 || req.Page != 1 ||
		req.Filters.Agencies[0].Tier != "toptier" || req.Filters.RecipientSearchText[0] != "Northrop Grumman" {
		t.Errorf("request %+v", req)
	}
	it := items[0]
	r := it.Record
	checks := []struct{ name, got, want string }{
		{"key", it.Key, "award:CONT_AWD_GSFC0200211DNAS502200_8000_-NONE-_-NONE-"},
		{"url", it.URL, "https://www.usaspending.gov/award/CONT_AWD_GSFC0200211DNAS502200_8000_-NONE-_-NONE-"},
		{"publisher", it.Publisher, "USAspending.gov"},
		{"amount exact", r.Amount, "4345585999.01"},
		{"piid", r.PIID, "GSFC0200211DNAS502200"},
		{"award id", r.AwardID, "CONT_AWD_GSFC0200211DNAS502200_8000_-NONE-_-NONE-"},
		{"vendor", r.Vendors[0].Name, "NORTHROP GRUMMAN SYSTEMS CORPORATION"},
		{"uei", r.Vendors[0].UEI, "VSBAFMDKTWL4"},
		{"agency", strings.Join(r.AgencyPath, "|"), "National Aeronautics and Space Administration"},
		{"naics", strings.Join(r.NAICS, ","), "336414"},
		{"psc", strings.Join(r.PSC, ","), "AR34"},
		{"place", r.PlaceOfPerformance, "REDONDO BEACH, CA 90278, UNITED STATES"},
		{"type", r.NoticeType, "DEFINITIVE CONTRACT"},
		{"published", it.Published.Format(time.DateOnly), "2003-10-01"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	if !strings.HasPrefix(r.Description, "THE JAMES WEBB SPACE TELESCOPE") || it.Tier != 1 {
		t.Errorf("description %.40q tier %d", r.Description, it.Tier)
	}
}

func TestParseHandMaintainedSample(t *testing.T) {
	// limit 4 with 5 results and hasNext true: paging follows hasNext, so
	// serve the sample once and an empty last page after it.
	sample := fixture(t, "usaspending_spending_by_award_contracts_nasa_5results.json")
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls > 1 {
			w.Write([]byte(`{"results":[],"page_metadata":{"page":2,"hasNext":false}}`))
			return
		}
		w.Write(sample)
	}))
	defer srv.Close()
	items := poll(t, config.Source{Name: "usa", URL: srv.URL})
	if len(items) != 5 || calls != 2 {
		t.Fatalf("%d items in %d requests, want 5 in 2", len(items), calls)
	}
	vendors := map[string]bool{}
	for _, it := range items {
		vendors[it.Record.Vendors[0].Name] = true
		if it.Record.Amount == "" || strings.Contains(it.Record.Amount, "e") {
			t.Errorf("%s amount %q", it.Key, it.Record.Amount)
		}
	}
	for _, v := range []string{"THE UNIVERSITY OF IOWA", "THE BOEING COMPANY"} {
		if !vendors[v] {
			t.Errorf("vendor %s missing from %v", v, vendors)
		}
	}
}

func TestPagingFollowsHasNext(t *testing.T) {
	var reqs []request
	pages := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		json.NewDecoder(r.Body).Decode(&req)
		reqs = append(reqs, req)
		pages++
		has := pages < 3
		b, _ := json.Marshal(map[string]any{
			"results":       []map[string]any{{"generated_internal_id": "CONT_AWD_" + string(rune('A'+pages)), "Award Amount": nil}},
			"page_metadata": map[string]any{"page": req.Page, "hasNext": has},
		})
		w.Write(b)
	}))
	defer srv.Close()
	items := poll(t, config.Source{Name: "usa", URL: srv.URL, Query: &config.Query{PageSize: 1}})
	if len(items) != 3 || reqs[2].Page != 3 || reqs[0].Limit != 1 {
		t.Fatalf("%d items, requests %+v", len(items), reqs)
	}
	if items[0].Record.Amount != "" {
		t.Errorf("null amount gave %q", items[0].Record.Amount)
	}
}

// The Northrop Grumman award matches a rule on that vendor, by name and
// by UEI.
func TestNorthropAwardMatchesVendorRule(t *testing.T) {
	var reqs []request
	srv := serve(t, fixture(t, "usaspending_spending_by_award_contracts_nasa_2results.json"), &reqs)
	items := poll(t, config.Source{Name: "usa", URL: srv.URL})
	tests := []struct {
		name   string
		entity config.Entity
	}{
		{"by alias", config.Entity{ID: "company:northrop", Name: "Northrop Grumman", Aliases: []string{"Northrop Grumman"}}},
		{"by uei", config.Entity{ID: "company:northrop", Name: "Northrop Grumman", UEI: []string{"VSBAFMDKTWL4"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := rules.NewMatcher(config.Watch{
				Entities: []config.Entity{tt.entity},
				Rules: []config.Rule{{Name: "northrop-awards", Fields: []string{"vendor"},
					All: []config.Clause{{Any: []string{"company:northrop"}}}}},
			})
			if err != nil {
				t.Fatal(err)
			}
			var matched []string
			for i := range items {
				if ms := m.Match(&items[i]); len(ms) > 0 {
					matched = append(matched, items[i].Record.Vendors[0].Name)
				}
			}
			if len(matched) != 1 || matched[0] != "NORTHROP GRUMMAN SYSTEMS CORPORATION" {
				t.Errorf("matched %v, want only the Northrop Grumman award", matched)
			}
		})
	}
}

func TestSubawardRequest(t *testing.T) {
	var reqs []request
	srv := serve(t, []byte(`{"results":[{"Sub-Award ID":"S1","prime_award_generated_internal_id":"CONT_AWD_X","Prime Award ID":"X",
	"Sub-Awardee Name":"SUB CO","Sub-Award Amount":"-12.50","Prime Recipient Name":"PRIME INC","Sub-Award Date":"2026-01-05"}],
	"page_metadata":{"hasNext":false}}`), &reqs)
	items := poll(t, config.Source{Name: "usa", URL: srv.URL, Query: &config.Query{Subawards: true}})
	if !reqs[0].Subawards || reqs[0].SpendingLevel != "subawards" || reqs[0].Sort != "Sub-Award ID" {
		t.Errorf("request %+v", reqs[0])
	}
	if len(items) != 1 {
		t.Fatalf("%d items", len(items))
	}
	r := items[0].Record
	if items[0].Key != "subaward:CONT_AWD_X:S1" || r.Kind != "subaward" || r.Amount != "-12.50" || r.PIID != "X" ||
		len(r.Vendors) != 2 || r.Vendors[1].Name != "PRIME INC" {
		t.Errorf("subaward item %s %+v", items[0].Key, r)
	}
}

func FuzzDecodeResponse(f *testing.F) {
	f.Add([]byte(`{"results":[{"generated_internal_id":"CONT_AWD_1","Award Amount":1e3,"NAICS":"x","Primary Place of Performance":null}],"page_metadata":{"hasNext":"yes"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r response
		if json.Unmarshal(b, &r) != nil {
			return
		}
		for _, res := range r.Results {
			for _, sub := range []bool{false, true} {
				if it, ok := item(config.Source{Name: "f"}, res, sub, now); ok && it.Key == "" {
					t.Fatal("item without key")
				}
			}
		}
	})
}
