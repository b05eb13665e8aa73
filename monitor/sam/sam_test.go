package sam

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/internal/shared"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/monitor"
	"github.com/tierwatch/tierwatch/monitor/record"
)

const secretKey = "SAMKEY-do-not-leak-123"

var now = time.Date(2026, 2, 3, 15, 0, 0, 0, time.UTC)

// fixture reads a payload from ../shared/fixtures/procurement, skipping
// the test when the shared folder is absent.
func fixture(t testing.TB, name string) []byte {
	return shared.File(t, "fixtures/procurement/"+name)
}

func source(typ, u string) config.Source {
	return config.Source{Name: "sam-test", Type: typ, URL: u, Query: &config.Query{APIKey: config.NewSecret(secretKey)}}
}

func fetcher() *monitor.Fetcher { return monitor.NewFetcher(monitor.FetchOptions{}, nil) }

func byKey(items []model.Item) map[string]model.Item {
	m := map[string]model.Item{}
	for _, it := range items {
		m[it.Key] = it
	}
	return m
}

func TestOpportunitiesParse(t *testing.T) {
	live := fixture(t, "sam_opportunities_v2_search_2026-02-02.json")
	doc := fixture(t, "sam_opportunities_v2_gsa_doc_award_notice.json")
	var got []string
	body := live
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.RawQuery)
		if r.URL.Query().Get("offset") != "0" {
			// The live sample says totalRecords 9334; the rest is not ours.
			w.Write([]byte(`{"totalRecords":9334,"opportunitiesData":[]}`))
			return
		}
		w.Write(body)
	}))
	defer srv.Close()

	src := source(model.SourceSAMOpportunities, srv.URL+"/opportunities/v2/search")
	src.Query.NoticeTypes = []string{"a", "o"}
	src.Query.NAICS = []string{"561320"}
	st := &model.SourceState{Name: src.Name}
	items, err := NewOpportunities(nil).Poll(context.Background(), fetcher(), src, st, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 10 {
		t.Fatalf("got %d items, want 10", len(items))
	}
	q := got[0]
	for _, want := range []string{"api_key=" + secretKey, "postedFrom=01%2F27%2F2026", "postedTo=02%2F03%2F2026",
		"limit=1000", "offset=0", "ptype=a%2Co", "ncode=561320"} {
		if !strings.Contains(q, want) {
			t.Errorf("query %q lacks %q", q, want)
		}
	}
	m := byKey(items)
	award := m["notice:f90fba9ebf6243ed8290c4ed4603c182"]
	r := award.Record
	if r == nil {
		t.Fatal("award notice missing")
	}
	checks := []struct{ name, got, want string }{
		{"title", award.Title, "Q999--Cancer CarePoint Associates, LLC"},
		{"publisher", award.Publisher, "SAM.gov"},
		{"url", award.URL, "https://sam.gov/workspace/contract/opp/f90fba9ebf6243ed8290c4ed4603c182/view"},
		{"kind", r.Kind, "opportunity"},
		{"agency", strings.Join(r.AgencyPath, "|"), "VETERANS AFFAIRS, DEPARTMENT OF|NAC FEDERAL SUPPLY SCHEDULE (36F797)"},
		{"amount", r.Amount, "5000000.00"},
		{"piid", r.PIID, "36F79726D0065"},
		{"solicitation", r.SolicitationNumber, "621I"},
		{"notice type", r.NoticeType, "Award Notice"},
		{"vendor", r.Vendors[0].Name, "CANCER CAREPOINT ASSOCIATES, LLC"},
		{"uei", r.Vendors[0].UEI, "LPZ2UE7MLNL5"},
		{"cage", r.Vendors[0].CAGE, "135X2"},
		{"naics", strings.Join(r.NAICS, ","), "561320"},
		{"psc", strings.Join(r.PSC, ","), "Q999"},
		{"place (all fields empty)", r.PlaceOfPerformance, ""},
		{"published", award.Published.Format(time.DateOnly), "2026-02-02"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	if award.Tier != 1 || !r.ResponseDeadline.IsZero() {
		t.Errorf("tier %d deadline %v", award.Tier, r.ResponseDeadline)
	}
	// A deadline with a -07:00 offset and a place of performance.
	var pre model.Item
	for _, it := range items {
		if it.Record.NoticeType == "Presolicitation" && strings.Contains(it.Record.PlaceOfPerformance, "Grand Junction") {
			pre = it
		}
	}
	if pre.Record == nil {
		t.Fatal("presolicitation in Grand Junction missing")
	}
	if got, want := pre.Record.ResponseDeadline, time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("deadline %v, want %v", got, want)
	}
	if got := pre.Record.PlaceOfPerformance; got != "Grand Junction, CO, UNITED STATES" {
		t.Errorf("place %q", got)
	}
	if r.Identifiers() == nil || r.Identifiers()[0] != "solicitation:621I" {
		t.Errorf("identifiers %v", r.Identifiers())
	}

	// The documentation example: deprecated path fields, padded solicitation.
	body = doc
	st = &model.SourceState{Name: src.Name}
	items, err = NewOpportunities(nil).Poll(context.Background(), fetcher(), src, st, now)
	if err != nil || len(items) != 1 {
		t.Fatalf("doc example: %d items, %v", len(items), err)
	}
	r = items[0].Record
	if r.SolicitationNumber != "47PF0018R0023" || r.Amount != "800620" || r.PIID != "47PF0018C0066" ||
		strings.Join(r.AgencyPath, "|") != "GENERAL SERVICES ADMINISTRATION|PUBLIC BUILDINGS SERVICE|PBS R5" ||
		r.Vendors[0].UEI != "025114695AST" || r.PlaceOfPerformance != "Milwaukee, WI 53202, USA" {
		t.Errorf("doc example record %+v", r)
	}
}

// pagedOpps serves the live sample's records limit at a time, honouring
// offset as a record offset.
func pagedOpps(t *testing.T, calls *int, fail func(n int) int) http.HandlerFunc {
	var all struct {
		Data []json.RawMessage `json:"opportunitiesData"`
	}
	if err := json.Unmarshal(fixture(t, "sam_opportunities_v2_search_2026-02-02.json"), &all); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		*calls++
		n := *calls
		mu.Unlock()
		if code := fail(n); code != 0 {
			w.WriteHeader(code)
			w.Write([]byte(`{"code":"900804","message":"Message throttled out","description":"You have exceeded your quota.","nextAccessTime":"2026-Feb-04 00:00:00+0000 UTC"}`))
			return
		}
		off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		lim, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		end := min(off+lim, len(all.Data))
		page, _ := json.Marshal(map[string]any{"totalRecords": len(all.Data), "limit": lim, "offset": off, "opportunitiesData": all.Data[off:end]})
		w.Write(page)
	}
}

func TestOpportunitiesPagingToTheEnd(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(pagedOpps(t, &calls, func(int) int { return 0 }))
	defer srv.Close()
	src := source(model.SourceSAMOpportunities, srv.URL)
	src.Query.PageSize = 4
	st := &model.SourceState{Name: src.Name}
	items, err := NewOpportunities(nil).Poll(context.Background(), fetcher(), src, st, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 10 || calls != 3 || len(byKey(items)) != 10 {
		t.Errorf("got %d items (%d distinct) in %d requests, want 10 in 3", len(items), len(byKey(items)), calls)
	}
	if cp := record.LoadCheckpoint(st.Checkpoint); !cp.Done.Equal(now) {
		t.Errorf("checkpoint %s not advanced to %v", st.Checkpoint, now)
	}
}

func TestQuotaExhaustion(t *testing.T) {
	tests := []struct {
		name   string
		status int
	}{
		{"429", http.StatusTooManyRequests},
		{"throttled body with 200", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			srv := httptest.NewServer(pagedOpps(t, &calls, func(n int) int {
				if n == 2 {
					return tt.status
				}
				return 0
			}))
			defer srv.Close()
			src := source(model.SourceSAMOpportunities, srv.URL)
			src.Query.PageSize = 4
			st := &model.SourceState{Name: src.Name}
			a := NewOpportunities(nil)
			items, err := a.Poll(context.Background(), fetcher(), src, st, now)
			if err != nil || len(items) != 4 {
				t.Fatalf("first poll: %d items, %v; want the 4 of page one delivered", len(items), err)
			}
			// Paused until midnight UTC without touching the server.
			_, err = a.Poll(context.Background(), fetcher(), src, st, now.Add(time.Minute))
			class, retry := monitor.ClassOf(err)
			if class != model.ClassRateLimited || retry != monitor.UntilRenewal(now.Add(time.Minute)) || calls != 2 {
				t.Fatalf("paused poll: err %v class %s retry %v calls %d", err, class, retry, calls)
			}
			// After renewal the window resumes where it stopped.
			items, err = a.Poll(context.Background(), fetcher(), src, st, now.Add(10*time.Hour))
			if err != nil || len(items) != 6 {
				t.Fatalf("after renewal: %d items, %v; want the remaining 6", len(items), err)
			}
		})
	}
}

func TestErrorsNeverCarryTheKey(t *testing.T) {
	tests := []struct {
		name string
		h    http.HandlerFunc
	}{
		{"server error", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }},
		{"bad json", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"opportunitiesData": [`)) }},
		{"429 first page", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(429) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.h)
			defer srv.Close()
			for _, a := range []monitor.Adapter{NewOpportunities(nil), NewAwards(nil)} {
				st := &model.SourceState{}
				_, err := a.Poll(context.Background(), fetcher(), source(model.SourceSAMAwards, srv.URL), st, now)
				if err == nil {
					t.Fatal("no error")
				}
				if strings.Contains(err.Error(), secretKey) || strings.Contains(st.Checkpoint, secretKey) {
					t.Errorf("key leaked: %v", err)
				}
				if !strings.Contains(err.Error(), "api_key=REDACTED") && tt.name != "429 first page" {
					t.Errorf("error %q does not show the redacted URL", err)
				}
			}
		})
	}
}

func FuzzDecodeOpportunities(f *testing.F) {
	f.Add([]byte(`{"totalRecords":"1","opportunitiesData":[{"noticeId":"x","award":{"amount":null,"awardee":{}},"placeOfPerformance":{"city":{"name":5}}}]}`))
	f.Add([]byte(`{"code":"900804","message":"Message throttled out"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var resp oppResponse
		if json.Unmarshal(b, &resp) != nil {
			return
		}
		for _, n := range resp.OpportunitiesData {
			if it, ok := opportunityItem(config.Source{Name: "f"}, n, now); ok && it.Key == "" {
				t.Fatal("item without key")
			}
		}
	})
}
