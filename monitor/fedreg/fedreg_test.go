package fedreg

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/monitor"
	"github.com/tierwatch/tierwatch/monitor/record"
)

var now = time.Date(2026, 2, 3, 15, 0, 0, 0, time.UTC)

func TestPollFollowsNextPageURL(t *testing.T) {
	p1, _ := os.ReadFile("testdata/documents_page1.json")
	p2, _ := os.ReadFile("testdata/documents_page2.json")
	var queries []string
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		if r.URL.Query().Get("page") == "2" {
			w.Write(p2)
			return
		}
		w.Write([]byte(strings.Replace(string(p1), "NEXT", srv.URL+"/api/v1/documents.json?page=2", 1)))
	}))
	defer srv.Close()
	src := config.Source{Name: "fr", URL: srv.URL + "/api/v1/documents.json", Query: &config.Query{
		Keywords: []string{"detention", "surveillance"}, Agencies: []string{"U.S. Immigration and Customs Enforcement"}}}
	st := &model.SourceState{}
	items, err := New(nil).Poll(context.Background(), monitor.NewFetcher(monitor.FetchOptions{}, nil), src, st, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 || len(queries) != 2 {
		t.Fatalf("%d items in %d requests, want 3 in 2", len(items), len(queries))
	}
	for _, want := range []string{"conditions%5Bterm%5D=detention+%7C+surveillance",
		"conditions%5Bagencies%5D%5B%5D=u-s-immigration-and-customs-enforcement",
		"conditions%5Bpublication_date%5D%5Bgte%5D=2026-01-27", "per_page=1000", "order=oldest"} {
		if !strings.Contains(queries[0], want) {
			t.Errorf("query %q lacks %q", queries[0], want)
		}
	}
	it := items[0]
	r := it.Record
	if it.Key != "fr:2026-01234" || r.DocumentNumber != "2026-01234" || r.Kind != "document" || r.NoticeType != "Notice" ||
		it.URL != "https://www.federalregister.gov/documents/2026/01/28/2026-01234/privacy-act-of-1974-system-of-records" ||
		strings.Join(r.AgencyPath, "|") != "Homeland Security Department|U.S. Immigration and Customs Enforcement" ||
		it.Summary != "U.S. Immigration and Customs Enforcement proposes a new system of records & routine uses." ||
		it.Published.Format(time.DateOnly) != "2026-01-28" || it.Publisher != "Federal Register" || it.Tier != 1 {
		t.Errorf("item %+v record %+v", it, r)
	}
	if items[1].URL != "https://www.federalregister.gov/d/2026-01300" {
		t.Errorf("fallback url %q", items[1].URL)
	}
	if r.Identifiers()[0] != "document:2026-01234" {
		t.Errorf("identifiers %v", r.Identifiers())
	}
	if cp := record.LoadCheckpoint(st.Checkpoint); !cp.Done.Equal(now) {
		t.Errorf("checkpoint %s", st.Checkpoint)
	}
}

func TestNextPageStaysOnHost(t *testing.T) {
	tests := []struct{ name, cur, next, want string }{
		{"same host", "https://www.federalregister.gov/a?x", "https://www.federalregister.gov/a?page=2", "https://www.federalregister.gov/a?page=2"},
		{"other host", "https://www.federalregister.gov/a", "https://evil.example/a?page=2", ""},
		{"scheme", "https://www.federalregister.gov/a", "file:///etc/passwd", ""},
		{"none", "https://www.federalregister.gov/a", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nextPage(tt.cur, tt.next); got != tt.want {
				t.Errorf("nextPage = %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzDecodeDocuments(f *testing.F) {
	b, _ := os.ReadFile("testdata/documents_page1.json")
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		var r response
		if json.Unmarshal(b, &r) != nil {
			return
		}
		for _, d := range r.Results {
			if it, ok := item(config.Source{Name: "f"}, d, now); ok && !strings.HasPrefix(it.Key, "fr:") {
				t.Fatalf("key %q", it.Key)
			}
		}
	})
}
