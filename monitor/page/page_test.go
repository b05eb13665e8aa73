package page

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/monitor"
)

var now = time.Date(2026, 2, 3, 15, 0, 0, 0, time.UTC)

func newsroomSource(u string) config.Source {
	return config.Source{Name: "acme-newsroom", Type: model.SourcePage, URL: u, Publisher: "Acme Newsroom", Tier: 3,
		Query: &config.Query{Selectors: config.Selectors{List: "article.release", Title: "h2", Date: "time, .date", Summary: "p.lede"},
			DateLayout: "January 2, 2006"}}
}

func TestPollNewsroom(t *testing.T) {
	body, err := os.ReadFile("testdata/newsroom.html")
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Content-Type", "text/html") // no charset: the meta tag says windows-1252
		w.Write(body)
	}))
	defer srv.Close()
	src := newsroomSource(srv.URL + "/newsroom/index.html")
	st := &model.SourceState{}
	f := monitor.NewFetcher(monitor.FetchOptions{}, nil)
	items, err := New(nil).Poll(context.Background(), f, src, st, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 {
		t.Fatalf("got %d items, want 3: %+v", len(items), items)
	}
	tests := []struct {
		name                     string
		it                       model.Item
		title, url, summary, day string
		dateSource               string
	}{
		{"absolute path link, curly quotes decoded", items[0],
			"Acme wins \u201cAlternatives to Detention\u201d contract from ICE", srv.URL + "/news/2026/ice-contract-award",
			"Caf\u00e9 owners\u2019 data and ICE\u2019s $12.5 million award: details inside.", "2026-01-28", "published"},
		{"relative link, date layout", items[1],
			"Acme and Palantir extend partnership", srv.URL + "/archive/palantir-partnership.html",
			"A second entry with a relative link.", "2026-02-02", "published"},
		{"script link dropped, no date", items[2],
			"Entry with a script link & no date", "", "Keyed by title and date.", "2026-02-03", "first_seen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := tt.it
			if it.Title != tt.title || it.URL != tt.url || it.Summary != tt.summary ||
				it.Published.Format(time.DateOnly) != tt.day || it.DateSource != tt.dateSource {
				t.Errorf("got title %q url %q summary %q date %s (%s)", it.Title, it.URL, it.Summary, it.Published, it.DateSource)
			}
			if it.Publisher != "Acme Newsroom" || it.Tier != 3 || it.Source != "acme-newsroom" || it.Record != nil {
				t.Errorf("source fields %q %d %q", it.Publisher, it.Tier, it.Source)
			}
		})
	}
	if !strings.HasPrefix(items[0].Key, "u:") || !strings.HasPrefix(items[2].Key, "h:") {
		t.Errorf("keys %q %q", items[0].Key, items[2].Key)
	}
	// Unchanged page: conditional GET, no items.
	items, err = New(nil).Poll(context.Background(), f, src, st, now)
	if err != nil || len(items) != 0 || calls != 2 {
		t.Errorf("second poll: %d items, %v, %d calls", len(items), err, calls)
	}
}

func TestParseBadSelectorAndMissingConfig(t *testing.T) {
	src := newsroomSource("https://example.org/")
	src.Query.Selectors.List = "article[" // does not compile
	if _, err := Parse(src, []byte("<article><h2>x</h2></article>"), "", "https://example.org/", now); err == nil {
		t.Error("bad selector accepted")
	}
	src.Query = nil
	if _, err := Parse(src, []byte("<p>"), "", "https://example.org/", now); err == nil {
		t.Error("page without selectors accepted")
	}
}

func TestBaseHref(t *testing.T) {
	src := newsroomSource("https://example.org/a/b.html")
	items, err := Parse(src, []byte(`<base href="https://cdn.example.org/news/"><article class="release"><h2><a href="x.html">X</a></h2></article>`),
		"text/html; charset=utf-8", "https://example.org/a/b.html", now)
	if err != nil || len(items) != 1 || items[0].URL != "https://cdn.example.org/news/x.html" {
		t.Errorf("items %+v, %v", items, err)
	}
}

func FuzzParse(f *testing.F) {
	b, _ := os.ReadFile("testdata/newsroom.html")
	f.Add(b, "text/html")
	f.Fuzz(func(t *testing.T, body []byte, ct string) {
		items, err := Parse(newsroomSource("https://example.org/"), body, ct, "https://example.org/", now)
		if err != nil {
			return
		}
		for _, it := range items {
			if it.Key == "" || it.Title == "" {
				t.Fatalf("item %+v", it)
			}
		}
	})
}
