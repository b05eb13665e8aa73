package sam

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/monitor"
	"github.com/tierwatch/tierwatch/rules"
)

// memStore is a StateStore and Sink that deduplicates items by key like
// the real store.
type memStore struct {
	mu    sync.Mutex // guards states and seen
	state map[string]model.SourceState
	seen  map[string]bool
}

func (m *memStore) SourceState(name string) (model.SourceState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state[name], nil
}

func (m *memStore) Ingest(_ context.Context, src config.Source, st model.SourceState, items []model.Item) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.state[src.Name] = st
	n := 0
	for _, it := range items {
		if !m.seen[src.Name+"\x00"+it.Key] {
			m.seen[src.Name+"\x00"+it.Key] = true
			n++
		}
	}
	return n, nil
}

const rss = `<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
<item><title>ICE awards contract</title><link>https://wire.example/a</link><pubDate>Mon, 02 Feb 2026 10:00:00 GMT</pubDate></item>
</channel></rss>`

// A SAM.gov source whose quota is gone stops until midnight UTC; a feed
// polled by the same poller goes on.
func TestQuotaStopsOnlyThatSource(t *testing.T) {
	var samCalls int
	samSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		samCalls++
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"code":"900804","message":"Message throttled out"}`))
	}))
	defer samSrv.Close()
	feedSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(rss)) }))
	defer feedSrv.Close()

	clock := now
	store := &memStore{state: map[string]model.SourceState{}, seen: map[string]bool{}}
	p := monitor.NewPoller(fetcher(), store, store,
		map[string]monitor.Adapter{model.SourceSAMOpportunities: NewOpportunities(nil)},
		monitor.PollerOptions{Now: func() time.Time { return clock }}, slog.New(slog.DiscardHandler))
	samSource := source(model.SourceSAMOpportunities, samSrv.URL)
	samSource.Name, samSource.DailyBudget = "sam", 10
	feed := config.Source{Name: "wire", Type: model.SourceFeed, URL: feedSrv.URL}

	res, err := p.Poll(context.Background(), samSource, false)
	if err != nil || res.Err == nil {
		t.Fatalf("sam poll: %v, result err %v; want a recorded quota error", err, res.Err)
	}
	st := store.state["sam"]
	if st.LastErrorClass != model.ClassRateLimited || st.NextRun.Before(now.Add(untilMidnight(now))) {
		t.Errorf("sam state class %s next run %v; want rate_limited until %v", st.LastErrorClass, st.NextRun, now.Add(untilMidnight(now)))
	}
	if left := monitor.BudgetLeft(samSource.DailyBudget, st, now); left != 0 {
		t.Errorf("budget left %d after the quota answer, want 0", left)
	}
	res, err = p.Poll(context.Background(), feed, false)
	if err != nil || res.Err != nil || res.New != 1 {
		t.Fatalf("feed poll beside the exhausted source: %+v, %v", res, err)
	}
	clock = now.Add(2 * time.Hour)
	res, _ = p.Poll(context.Background(), samSource, false)
	if !res.Skipped || samCalls != 1 {
		t.Errorf("sam polled again before renewal: skipped %v, calls %d", res.Skipped, samCalls)
	}
}

func untilMidnight(t time.Time) time.Duration {
	u := t.UTC()
	return time.Date(u.Year(), u.Month(), u.Day()+1, 0, 0, 0, 0, time.UTC).Sub(u)
}

// A notice, a later award of the same PIID, and a news item citing the
// PIID or the notice id share grouping keys, so they meet in one candidate.
func TestNoticeAwardAndNewsShareKeys(t *testing.T) {
	var opps oppResponse
	if err := json.Unmarshal(fixture(t, "sam_opportunities_v2_search_2026-02-02.json"), &opps); err != nil {
		t.Fatal(err)
	}
	var notice model.Item
	for _, n := range opps.OpportunitiesData {
		if it, ok := opportunityItem(config.Source{Name: "opps"}, n, now); ok && it.Record.PIID != "" {
			notice = it
		}
	}
	var awards awardsResponse
	if err := json.Unmarshal(fixture(t, "sam_contract_awards_v1_gsa_doc_example1.json"), &awards); err != nil {
		t.Fatal(err)
	}
	c := awards.AwardSummary[0]
	c.ContractID.PIID = "36F79726D0065" // the award notice's contract
	award, _ := awardItem(config.Source{Name: "awards"}, c, now)
	tests := []struct {
		name string
		item model.Item
	}{
		{"award of the same PIID", award},
		{"news citing the PIID", model.Item{Title: "VA contract 36F79726D0065 questioned", URL: "https://news.example/x"}},
		{"news citing the notice id", model.Item{Summary: "See SAM.gov notice f90fba9ebf6243ed8290c4ed4603c182.", URL: "https://news.example/y"}},
	}
	nk := map[string]bool{}
	for _, k := range rules.ItemKeys(&notice) {
		nk[k] = true
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range rules.ItemKeys(&tt.item) {
				if nk[k] {
					return
				}
			}
			t.Errorf("keys %v share nothing with the notice's %v", rules.ItemKeys(&tt.item), rules.ItemKeys(&notice))
		})
	}
}
