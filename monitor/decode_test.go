package monitor

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tierwatch/tierwatch/internal/shared"

	"github.com/mmcdole/gofeed"
	"github.com/tierwatch/tierwatch/model"
)

// feedFixtures returns ../shared/fixtures/feeds, skipping when absent.
func feedFixtures(tb testing.TB) string { return shared.Dir(tb, "fixtures/feeds") }

// fixtureCase is the expected outcome of one real feed in ../shared.
type fixtureCase struct {
	file        string
	contentType string // as a server would plausibly label it
	parseError  bool
	minItems    int
	wantInTitle []string // substrings some title must contain
	wantDomain  string   // a domain some item must have ("" = no check)
	allDated    bool     // every item has a feed date (not first_seen)
}

var fixtureCases = []fixtureCase{
	{file: "guardian_us_news.rss", contentType: "application/rss+xml; charset=UTF-8", minItems: 55, allDated: true},
	{file: "uol_noticias_latin1_undeclared_ptbr_dates.rss", contentType: "application/rss+xml", minItems: 5,
		wantInTitle: []string{"ã", "ç"}, allDated: true},
	{file: "jn_pt_iso8859-1_declared.rss", contentType: "text/xml", minItems: 40, wantInTitle: []string{"í"}, allDated: true},
	{file: "qq_news_gb2312.rss", contentType: "application/xml", minItems: 20, allDated: true},
	{file: "heise_developer_de.atom", contentType: "application/atom+xml", minItems: 15, allDated: true},
	{file: "reuters_most_read_truncated.rss", contentType: "application/rss+xml", parseError: true},
	{file: "golem_de_rss1_iso8859-1.rdf", contentType: "application/rdf+xml", minItems: 1, allDated: true},
	{file: "nbc_new_york_bad_pubdate.rss", contentType: "application/rss+xml", minItems: 1},
	{file: "cloudflare_blog.rss", contentType: "application/rss+xml; charset=utf-8", minItems: 1, allDated: true},
	{file: "aws_blog_typepad_leading_space.atom", contentType: "application/atom+xml", minItems: 10,
		wantInTitle: []string{"Amazon"}, allDated: true},
	{file: "techcrunch_feedburner.rss", contentType: "text/xml; charset=UTF-8", minItems: 20,
		wantDomain: "techcrunch.com", allDated: true}, // feedproxy links replaced by feedburner:origLink
	{file: "google_alerts_slack.atom", contentType: "application/atom+xml", minItems: 20,
		wantInTitle: []string{"Slack"}, wantDomain: "investorplace.com", allDated: true},
}

func TestFixturesCoverSharedFolder(t *testing.T) {
	dir := feedFixtures(t)
	names, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{"SOURCES.md": true}
	for _, c := range fixtureCases {
		known[c.file] = true
	}
	for _, n := range names {
		if !known[filepath.Base(n)] {
			t.Errorf("fixture %s has no expected outcome in fixtureCases", filepath.Base(n))
		}
	}
}

// TestFixtures fetches every real feed over HTTP and via file://, parses
// and normalises it, and checks the outcome the table expects.
func TestFixtures(t *testing.T) {
	dir := feedFixtures(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		for _, c := range fixtureCases {
			if c.file == name {
				w.Header().Set("Content-Type", c.contentType)
				http.ServeFile(w, r, filepath.Join(dir, name))
				return
			}
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	f := NewFetcher(FetchOptions{Timeout: 5 * time.Second}, nil)
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

	for _, c := range fixtureCases {
		abs, err := filepath.Abs(filepath.Join(dir, c.file))
		if err != nil {
			t.Fatal(err)
		}
		for _, via := range []struct{ name, url string }{
			{"http", srv.URL + "/" + c.file},
			{"file", (&url.URL{Scheme: "file", Path: abs}).String()},
		} {
			t.Run(c.file+"/"+via.name, func(t *testing.T) {
				resp, err := f.Fetch(t.Context(), Request{Source: "fx", URL: via.url})
				if err != nil {
					t.Fatalf("fetch: %v", err)
				}
				ct := resp.ContentType
				feed, err := ParseFeed(resp.Body, ct)
				if c.parseError {
					var fe *FetchError
					if !errors.As(err, &fe) || fe.Class != model.ClassParse {
						t.Fatalf("ParseFeed error = %v, want a FetchError of class parse", err)
					}
					return
				}
				if err != nil {
					t.Fatalf("ParseFeed: %v", err)
				}
				items := Normalise(Source{Name: "fx", URL: via.url}, feed, now)
				checkFixtureItems(t, c, items)
			})
		}
	}
}

func checkFixtureItems(t *testing.T, c fixtureCase, items []model.Item) {
	t.Helper()
	if len(items) < c.minItems {
		t.Fatalf("got %d items, want at least %d", len(items), c.minItems)
	}
	keys := map[string]bool{}
	domains := map[string]bool{}
	for _, it := range items {
		if it.Title == "" || !utf8.ValidString(it.Title) || strings.ContainsAny(it.Title, "<>") ||
			strings.Contains(it.Title, "&lt;") || strings.Contains(it.Title, "\uFFFD") {
			t.Errorf("item %s: insane title %q", it.Key, it.Title)
		}
		if !utf8.ValidString(it.Summary) || !utf8.ValidString(it.Content) {
			t.Errorf("item %s: invalid UTF-8 in summary or content", it.Key)
		}
		if it.Published.IsZero() || it.DateSource == "" {
			t.Errorf("item %s: no date (%v, %q)", it.Key, it.Published, it.DateSource)
		}
		if c.allDated && it.DateSource == DateFirstSeen {
			t.Errorf("item %s: date fell back to first_seen; feed dates were not read", it.Key)
		}
		if keys[it.Key] {
			t.Errorf("duplicate key %s", it.Key)
		}
		keys[it.Key] = true
		domains[it.Domain] = true
		if it.Publisher == "" {
			t.Errorf("item %s: no publisher", it.Key)
		}
	}
	for _, want := range c.wantInTitle {
		found := false
		for _, it := range items {
			if strings.Contains(it.Title, want) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no title contains %q; first title %q", want, items[0].Title)
		}
	}
	if c.wantDomain != "" && !domains[c.wantDomain] {
		t.Errorf("no item has domain %q; domains %v", c.wantDomain, domains)
	}
}

func TestParseFeedDecoding(t *testing.T) {
	rss := func(decl, title string) []byte {
		return []byte(decl + `<rss version="2.0"><channel><title>T</title><item><title>` + title +
			`</title><link>https://example.com/a</link></item></channel></rss>`)
	}
	latin1 := func(s string) string { // encode a Latin-1-only string
		var b []byte
		for _, r := range s {
			b = append(b, byte(r))
		}
		return string(b)
	}
	utf16le := func(s string) []byte {
		b := []byte{0xFF, 0xFE}
		for _, r := range s {
			b = append(b, byte(r), byte(r>>8))
		}
		return b
	}
	tests := []struct {
		name        string
		body        []byte
		contentType string
		wantTitle   string
		wantErr     bool
	}{
		{"utf8 plain", rss(`<?xml version="1.0" encoding="UTF-8"?>`, "Ação"), "", "Ação", false},
		{"utf8 bom and leading space", append([]byte("\xEF\xBB\xBF \n"), rss(`<?xml version="1.0"?>`, "Olá")...), "", "Olá", false},
		{"undeclared latin1", rss("", latin1("Notícias São Paulo")), "", "Notícias São Paulo", false},
		{"undeclared windows-1252 smart quotes", rss("", "\x93quoted\x94 \x96 dash"), "", "\u201cquoted\u201d \u2013 dash", false},
		{"declared latin1 in xml", rss(`<?xml version="1.0" encoding="ISO-8859-1"?>`, latin1("café")), "", "café", false},
		{"declared latin1 in content-type only", rss("", latin1("café")), "text/xml; charset=iso-8859-1", "café", false},
		{"content-type wins over declaration", rss(`<?xml version="1.0" encoding="utf-8"?>`, latin1("café")), "text/xml; charset=ISO-8859-1", "café", false},
		{"utf8 mislabelled latin1 is not converted twice", rss(`<?xml version="1.0" encoding="ISO-8859-1"?>`, "café"), "", "café", false},
		{"utf8 mislabelled in content-type", rss("", "café"), "text/xml; charset=windows-1252", "café", false},
		{"utf8 with one stray byte keeps utf8", rss("", "Ação é \xff ótima"), "", "Ação é \uFFFD ótima", false},
		{"NUL and control chars removed", rss("", "a\x00b\x01c\x1Fd"), "", "abcd", false},
		{"U+FFFF removed", rss("", "a\uFFFFb\uFFFEc"), "", "abc", false},
		{"utf16 with bom", utf16le(string(rss(`<?xml version="1.0" encoding="UTF-16"?>`, "Ünïcode"))), "", "Ünïcode", false},
		{"json feed", []byte(`{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[{"id":"1","title":"Jso\u00f1 <b>x</b>","url":"https://example.com/j"}]}`), "application/feed+json", "Jsoñ x", false},
		{"json feed with control char", []byte("{\"version\":\"https://jsonfeed.org/version/1\",\"title\":\"J\",\"items\":[{\"id\":\"1\",\"title\":\"a\x01b\"}]}"), "", "ab", false},
		{"empty body", []byte(" \n\t"), "", "", true},
		{"html page", []byte(`<!doctype html><html><body>hi</body></html>`), "text/html", "", true},
		{"truncated", []byte(`<rss version="2.0"><channel><item><title>x`), "", "", true},
		{"unknown charset label falls back", rss(`<?xml version="1.0" encoding="x-nonsense"?>`, latin1("café")), "", "café", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feed, err := ParseFeed(tt.body, tt.contentType)
			if tt.wantErr {
				var fe *FetchError
				if !errors.As(err, &fe) || fe.Class != model.ClassParse {
					t.Fatalf("err = %v, want parse FetchError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFeed: %v", err)
			}
			items := Normalise(Source{Name: "s"}, feed, time.Now())
			if len(items) != 1 {
				t.Fatalf("got %d items, want 1", len(items))
			}
			if got := items[0].Title; got != tt.wantTitle {
				t.Errorf("title = %q, want %q", got, tt.wantTitle)
			}
		})
	}
}

// TestParseFeedKeepsInputIntact: ParseFeed must not modify the caller's body.
func TestParseFeedKeepsInputIntact(t *testing.T) {
	body := []byte("<rss version=\"2.0\"><channel><item><title>a\x00b</title></item></channel></rss>")
	orig := bytes.Clone(body)
	if _, err := ParseFeed(body, ""); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, orig) {
		t.Errorf("body modified: %q", body)
	}
}

func FuzzParseFeed(f *testing.F) {
	if dir, ok := fuzzFixtureDir(); ok {
		names, _ := filepath.Glob(filepath.Join(dir, "*")) // a bad pattern is impossible here
		for _, n := range names {
			if strings.HasSuffix(n, ".md") {
				continue
			}
			if b, err := os.ReadFile(n); err == nil {
				f.Add(b, "")
			}
		}
	}
	f.Add([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?><rss><channel><item><title>caf`+"\xe9"+`</title></item></channel></rss>`), "text/xml")
	f.Add([]byte(`{"version":"https://jsonfeed.org/version/1","items":[{"id":"x"}]}`), "application/json")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		feed, err := ParseFeed(body, contentType)
		if err != nil {
			var fe *FetchError
			if !errors.As(err, &fe) || fe.Class != model.ClassParse {
				t.Fatalf("error %v is not a parse FetchError", err)
			}
			return
		}
		checkItemsInvariants(t, Normalise(Source{Name: "f"}, feed, now), now)
	})
}

// fuzzFixtureDir finds the shared fixtures without skipping, so a missing
// folder only removes seeds.
func fuzzFixtureDir() (string, bool) { return shared.Find("fixtures/feeds") }

// genFeed builds an RSS document of n items resembling a news feed.
func genFeed(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Bench News</title><link>https://news.example.com/</link>`)
	for i := range n {
		fmt.Fprintf(&b, `<item><title>Story %d: Amazon Web Services and ICE sign a contract &amp; more</title>`+
			`<link>https://news.example.com/2026/11/story-%d?utm_source=rss&amp;utm_medium=feed</link>`+
			`<guid isPermaLink="false">story-%d</guid><pubDate>Sun, 22 Nov 2026 10:%02d:00 +0000</pubDate>`+
			`<description><![CDATA[<p>Summary of story %d with <a href="https://x.example/">a link</a> and <img src="https://img.example/%d.jpg"/> an image.</p>]]></description>`+
			`<content:encoded><![CDATA[<div><p>%s</p><p>Paragraph two with <b>bold</b> text.</p></div>]]></content:encoded></item>`,
			i, i, i, i%60, i, i, strings.Repeat("Body text of the article, long enough to resemble a real one. ", 20))
	}
	b.WriteString(`</channel></rss>`)
	return b.Bytes()
}

// BenchmarkParseFeed measures ParseFeed (decoding checks, clean-up and
// gofeed with the image scan off) beside gofeed's default parser on the same
// 50-item feed; the pipeline must stay within 2x of the latter.
func BenchmarkParseFeed(b *testing.B) {
	body := genFeed(50)
	b.Run("pipeline", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseFeed(body, "application/rss+xml"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pipeline+normalise", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		now := time.Now()
		for b.Loop() {
			feed, err := ParseFeed(body, "application/rss+xml")
			if err != nil {
				b.Fatal(err)
			}
			if len(Normalise(Source{Name: "b"}, feed, now)) != 50 {
				b.Fatal("lost items")
			}
		}
	})
	b.Run("gofeed", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := gofeed.NewParser().Parse(bytes.NewReader(body)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
