package sam

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/monitor/record"
)

func TestAwardsParse(t *testing.T) {
	body := fixture(t, "sam_contract_awards_v1_gsa_doc_example1.json")
	var query string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.RawQuery
		w.Write(body)
	}))
	defer srv.Close()
	src := source(model.SourceSAMAwards, srv.URL)
	src.Query.UEI = []string{"HKK3H54PK7C3", "VSBAFMDKTWL4"}
	src.Query.Agencies = []string{"DEPT OF DEFENSE"}
	items, err := NewAwards(nil).Poll(context.Background(), fetcher(), src, &model.SourceState{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 {
		t.Fatalf("got %d items, want 1", len(items))
	}
	for _, want := range []string{"lastModifiedDate=%5B01%2F27%2F2026%2C02%2F03%2F2026%5D", "limit=100", "offset=0",
		"awardeeUniqueEntityId=HKK3H54PK7C3~VSBAFMDKTWL4", "contractingDepartmentName=DEPT+OF+DEFENSE"} {
		if !strings.Contains(query, want) {
			t.Errorf("query %q lacks %q", query, want)
		}
	}
	it := items[0]
	r := it.Record
	checks := []struct{ name, got, want string }{
		{"key", it.Key, "piid:9700:SPE3SU25F97V0:0"},
		{"kind", r.Kind, "award"},
		{"agency", strings.Join(r.AgencyPath, "|"), "DEPT OF DEFENSE|DEFENSE LOGISTICS AGENCY|DLA TROOP SUPPORT"},
		{"amount", r.Amount, "202.39"},
		{"piid", r.PIID, "SPE3SU25F97V0"},
		{"mod", r.Modification, "0"},
		{"vendor", r.Vendors[0].Name, "VERMILION VALLEY PRODUCE, INC."},
		{"uei", r.Vendors[0].UEI, "HKK3H54PK7C3"},
		{"cage", r.Vendors[0].CAGE, "0EPU7"},
		{"naics", strings.Join(r.NAICS, ","), "311812"},
		{"psc", strings.Join(r.PSC, ","), "8915"},
		{"place", r.PlaceOfPerformance, "MORTON, IL 615509058, UNITED STATES"},
		{"description", r.Description, "4567323815!SALAD MIX, CHL,"},
		{"published", it.Published.Format("2006-01-02"), "2025-02-20"},
		{"publisher", it.Publisher, "SAM.gov"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestAwardsPagingAnd204(t *testing.T) {
	var one struct {
		AwardSummary []map[string]any `json:"awardSummary"`
	}
	if err := json.Unmarshal(fixture(t, "sam_contract_awards_v1_gsa_doc_example1.json"), &one); err != nil {
		t.Fatal(err)
	}
	const total = 5
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if strings.Contains(r.URL.RawQuery, "piid=none") {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		lim, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		var out []map[string]any
		for i := page * lim; i < min((page+1)*lim, total); i++ {
			a := map[string]any{}
			b, _ := json.Marshal(one.AwardSummary[0])
			json.Unmarshal(b, &a)
			a["contractId"].(map[string]any)["modificationNumber"] = strconv.Itoa(i)
			out = append(out, a)
		}
		b, _ := json.Marshal(map[string]any{"awardSummary": out, "totalRecords": strconv.Itoa(total), "limit": strconv.Itoa(lim), "offset": strconv.Itoa(page)})
		w.Write(b)
	}))
	defer srv.Close()

	src := source(model.SourceSAMAwards, srv.URL)
	src.Query.PageSize = 2
	st := &model.SourceState{}
	items, err := NewAwards(nil).Poll(context.Background(), fetcher(), src, st, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != total || calls != 3 || len(byKey(items)) != total {
		t.Errorf("got %d items (%d keys) in %d requests, want %d in 3", len(items), len(byKey(items)), calls, total)
	}

	src.URL = srv.URL + "?piid=none"
	st = &model.SourceState{}
	items, err = NewAwards(nil).Poll(context.Background(), fetcher(), src, st, now)
	if err != nil || len(items) != 0 {
		t.Fatalf("204: %d items, %v", len(items), err)
	}
	if cp := record.LoadCheckpoint(st.Checkpoint); !cp.Done.Equal(now) {
		t.Errorf("204 did not complete the window: %s", st.Checkpoint)
	}
}

func FuzzDecodeAwards(f *testing.F) {
	f.Add([]byte(`{"awardSummary":[{"contractId":{"piid":"X","subtier":{"code":1}},"awardDetails":{"dollars":{"actionObligation":"-1,000.50"}}}],"totalRecords":"1"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var resp awardsResponse
		if json.Unmarshal(b, &resp) != nil {
			return
		}
		for _, c := range resp.AwardSummary {
			if it, ok := awardItem(config.Source{Name: "f"}, c, now); ok && !strings.HasPrefix(it.Key, "piid:") {
				t.Fatalf("key %q", it.Key)
			}
		}
	})
}
