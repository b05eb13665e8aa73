package monitor

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"github.com/tierwatch/tierwatch/model"
)

// checkItemsInvariants asserts what every normalised item must satisfy,
// whatever the input.
func checkItemsInvariants(t *testing.T, items []model.Item, now time.Time) {
	t.Helper()
	keys := map[string]bool{}
	for _, it := range items {
		if it.Key == "" || keys[it.Key] {
			t.Fatalf("empty or duplicate key %q", it.Key)
		}
		keys[it.Key] = true
		for name, v := range map[string]string{"title": it.Title, "summary": it.Summary, "content": it.Content, "url": it.URL, "guid": it.GUID} {
			if !utf8.ValidString(v) {
				t.Fatalf("%s is not valid UTF-8: %q", name, v)
			}
		}
		if it.Title == "" || len(it.Title) > MaxTitle || len(it.Summary) > MaxSummary || len(it.Content) > MaxContent {
			t.Fatalf("title %q / summary %d / content %d break the caps", it.Title, len(it.Summary), len(it.Content))
		}
		if it.Title != strings.TrimSpace(it.Title) || strings.Contains(it.Title, "  ") {
			t.Fatalf("title white space not collapsed: %q", it.Title)
		}
		if it.Published.IsZero() || it.Published.After(now.Add(futureSlack)) {
			t.Fatalf("published %v out of range (now %v)", it.Published, now)
		}
		if !it.FirstSeen.Equal(now) {
			t.Fatalf("first seen %v, want %v", it.FirstSeen, now)
		}
	}
}

func tp(t time.Time) *time.Time { return &t }

func TestNormaliseKeys(t *testing.T) {
	pub := "Sun, 22 Nov 2026 10:00:00 +0000"
	item := func(guid, link, title string) *gofeed.Item {
		return &gofeed.Item{GUID: guid, Link: link, Title: title, Published: pub}
	}
	tests := []struct {
		name  string
		items []*gofeed.Item
		want  []string // keys in order; "h:" means any hash key
	}{
		{"guid preferred", []*gofeed.Item{item("abc", "https://x.test/a", "A")}, []string{"g:abc"}},
		{"url guid canonicalised", []*gofeed.Item{item("https://X.test/a?utm_source=rss", "", "A")}, []string{"g:https://x.test/a"}},
		{"link when no guid", []*gofeed.Item{item("", "https://x.test/a?fbclid=1", "A")}, []string{"u:https://x.test/a"}},
		{"hash when no guid or link", []*gofeed.Item{item("", "", "A")}, []string{"h:"}},
		{"repeated guid, different items fall back to links",
			[]*gofeed.Item{item("same", "https://x.test/a", "A"), item("same", "https://x.test/b", "B")},
			[]string{"u:https://x.test/a", "u:https://x.test/b"}},
		{"repeated guid and link, different titles fall back to hashes",
			[]*gofeed.Item{item("same", "https://x.test/", "A"), item("same", "https://x.test/", "B")},
			[]string{"h:", "h:"}},
		{"identical entries deduplicated",
			[]*gofeed.Item{item("g1", "https://x.test/a", "A"), item("g1", "https://x.test/a", "A")},
			[]string{"g:g1"}},
		{"same link different guids kept apart",
			[]*gofeed.Item{item("g1", "https://x.test/live", "Update 1"), item("g2", "https://x.test/live", "Update 2")},
			[]string{"g:g1", "g:g2"}},
		{"shared guid whose fallback link collides with another entry",
			[]*gofeed.Item{item("s", "https://x.test/a", "A"), item("s", "https://x.test/b", "B"), item("", "https://x.test/a", "A2")},
			[]string{"h:", "u:https://x.test/b", "h:"}},
		{"nil items skipped", []*gofeed.Item{nil, item("z", "", "Z")}, []string{"g:z"}},
		{"empty entries dropped", []*gofeed.Item{{GUID: "only-guid"}}, nil},
	}
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items := Normalise(Source{Name: "s"}, &gofeed.Feed{Items: tt.items}, now)
			var got []string
			for _, it := range items {
				got = append(got, it.Key)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("keys %q, want %q", got, tt.want)
			}
			for i := range got {
				if tt.want[i] == "h:" && strings.HasPrefix(got[i], "h:") && len(got[i]) == 66 {
					continue
				}
				if got[i] != tt.want[i] {
					t.Errorf("key %d = %q, want %q", i, got[i], tt.want[i])
				}
			}
			checkItemsInvariants(t, items, now)
		})
	}
}

// TestNormaliseKeysStableAcrossPolls: the same entries polled at different
// times, in a different order, get the same keys (hash keys use the feed's
// date string, not the first-seen time).
func TestNormaliseKeysStableAcrossPolls(t *testing.T) {
	mk := func() []*gofeed.Item {
		return []*gofeed.Item{
			{Title: "No link, no date"},
			{Title: "No link", Published: "garbage date"},
			{GUID: "s", Link: "https://x.test/", Title: "A"},
			{GUID: "s", Link: "https://x.test/", Title: "B"},
		}
	}
	t1 := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	first := Normalise(Source{Name: "s"}, &gofeed.Feed{Items: mk()}, t1)
	rev := mk()
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	second := Normalise(Source{Name: "s"}, &gofeed.Feed{Items: rev}, t1.Add(time.Hour))
	keys := map[string]string{}
	for _, it := range first {
		keys[it.Title] = it.Key
	}
	if len(first) != 4 || len(second) != 4 {
		t.Fatalf("got %d and %d items, want 4 each", len(first), len(second))
	}
	for _, it := range second {
		if keys[it.Title] != it.Key {
			t.Errorf("%q: key %q on the second poll, %q on the first", it.Title, it.Key, keys[it.Title])
		}
	}
}

func TestNormaliseDates(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	past := time.Date(2026, 11, 20, 8, 0, 0, 0, time.FixedZone("X", 3600))
	tests := []struct {
		name       string
		item       gofeed.Item
		want       time.Time
		wantSource string
	}{
		{"published", gofeed.Item{PublishedParsed: tp(past), UpdatedParsed: tp(now)}, past.UTC(), DatePublished},
		{"updated only", gofeed.Item{UpdatedParsed: tp(past)}, past.UTC(), DateUpdated},
		{"none", gofeed.Item{}, now, DateFirstSeen},
		{"future clamped", gofeed.Item{PublishedParsed: tp(now.Add(time.Hour))}, now, DateFirstSeen},
		{"slightly ahead kept", gofeed.Item{PublishedParsed: tp(now.Add(5 * time.Minute))}, now.Add(5 * time.Minute), DatePublished},
		{"zero year ignored", gofeed.Item{PublishedParsed: tp(time.Time{}), UpdatedParsed: tp(past)}, past.UTC(), DateUpdated},
		{"portuguese", gofeed.Item{Published: "Seg, 24 Set 2018 19:18:49 -0300"},
			time.Date(2018, 9, 24, 22, 18, 49, 0, time.UTC), DatePublished},
		{"german", gofeed.Item{Published: "Mo, 3. Mär 2025 10:00:00 +0100"},
			time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC), DatePublished},
		{"spanish gmt", gofeed.Item{Published: "lun, 13 ene 2025 08:00:00 GMT"},
			time.Date(2025, 1, 13, 8, 0, 0, 0, time.UTC), DatePublished},
		{"unparsable", gofeed.Item{Published: "Sat, Dec 16 2023 02:02:33 PM"}, now, DateFirstSeen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := tt.item
			it.Title = "T"
			items := Normalise(Source{Name: "s"}, &gofeed.Feed{Items: []*gofeed.Item{&it}}, now)
			if len(items) != 1 {
				t.Fatalf("got %d items", len(items))
			}
			if !items[0].Published.Equal(tt.want) || items[0].DateSource != tt.wantSource {
				t.Errorf("got %v (%s), want %v (%s)", items[0].Published, items[0].DateSource, tt.want, tt.wantSource)
			}
		})
	}
}

func TestNormaliseFields(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	feed := &gofeed.Feed{Title: "Feed &amp; Co", Link: "https://www.news.test/", Items: []*gofeed.Item{
		{Title: "Rel", Link: "/2026/story?utm_medium=x", Description: "<p>Hello&nbsp;<b>world</b></p><p>again</p>", Content: "<p>Hello <b>world</b> again</p>"},
		{Title: "", Description: "Untitled summary that becomes the title", Link: "https://www.google.com/url?url=https://www.real.test/a&sa=t"},
	}}
	tests := []struct {
		name string
		src  Source
		i    int
		want model.Item
	}{
		{"relative link resolved, publisher from feed", Source{Name: "n", Tier: 2}, 0, model.Item{
			Source: "n", URL: "https://www.news.test/2026/story", Link: "/2026/story?utm_medium=x", Title: "Rel",
			Summary: "Hello world again", Content: "", Publisher: "Feed & Co", Domain: "news.test", Tier: 2}},
		{"configured publisher, wrapper unwrapped, title from summary", Source{Name: "n", Publisher: "News Inc"}, 1, model.Item{
			Source: "n", URL: "https://www.real.test/a", Link: "https://www.google.com/url?url=https://www.real.test/a&sa=t",
			Title: "Untitled summary that becomes the title", Summary: "Untitled summary that becomes the title",
			Publisher: "News Inc", Domain: "real.test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Normalise(tt.src, feed, now)[tt.i]
			got.Key, got.Published, got.DateSource, got.FirstSeen = "", time.Time{}, "", time.Time{}
			if got.GUID != "" || got.Record != nil {
				t.Fatalf("unexpected GUID/record: %+v", got)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestPlainText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"plain", "  Hello \n\t world  ", 100, "Hello world"},
		{"google alerts markup", "<b>Slack</b> (NASDAQ:WORK) CEO", 100, "Slack (NASDAQ:WORK) CEO"},
		{"inline tags join", "Ama<b>zon</b>", 100, "Amazon"},
		{"block tags separate", "<p>one</p><p>two</p>three<br>four", 100, "one two three four"},
		{"entities", "AT&amp;T &lt;3 &eacute;t&eacute; &#8217; &#x2014;", 100, "AT&T <3 été ’ —"},
		{"bare ampersand", "Q&A and a < b", 100, "Q&A and a < b"},
		{"script and style dropped", "a<script>alert('x')</script>b<style>p{}</style>c", 100, "abc"},
		{"comments dropped", "a<!-- hidden -->b", 100, "ab"},
		{"invalid utf8 replaced", "caf\xe9!", 100, "caf\uFFFD!"},
		{"controls and soft hyphens removed", "Ama\u00adzon\x00\u200b!", 100, "Amazon!"},
		{"nbsp collapsed", "a\u00a0\u00a0b", 100, "a b"},
		{"terminal escapes and bidi overrides removed", "a\x1b[31mred\x07 \u202eevil\u2066x\u2069", 100, "a[31mred evilx"},
		{"cut at rune boundary", "ééé", 5, "éé"},
		{"cut never leaves trailing space", "ab cd", 3, "ab"},
		{"unclosed tag", "text <a href=", 100, "text"},
		{"empty", "", 100, ""},
		{"zero max", "abc", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PlainText(tt.in, tt.max)
			if got != tt.want {
				t.Errorf("PlainText(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
			if len(got) > tt.max || !utf8.ValidString(got) {
				t.Errorf("result %q breaks the cap or UTF-8", got)
			}
		})
	}
}

// plainBoth runs PlainText's fast path and its tokenizer path on s.
func plainBoth(s string, max int) (fast string, took bool, slow string) {
	fw, sw := textWriter{max: max}, textWriter{max: max}
	took = plainSimple(&fw, s)
	plainTokens(&sw, s)
	return fw.b.String(), took, sw.b.String()
}

// TestPlainSimple checks that the fast path takes the markup feeds send
// and leaves the rest to the tokenizer, agreeing with it either way.
func TestPlainSimple(t *testing.T) {
	tests := []struct {
		name string
		in   string
		take bool
	}{
		{"paragraphs", "<p>Amazon &amp; ICE</p>\n<p>second</p>", true},
		{"link with attributes", `See <a href="https://x.test/?a=1&amp;b=2" title='a > b' target=_blank rel = nofollow>this</a>.`, true},
		{"self-closing and upper case", "one<BR/>two<br />three<IMG SRC=x.png ALT=\"\">", true},
		{"inline joins", "Ama<b>zon</b> <EM>Web</EM> Services", true},
		{"cap reached", strings.Repeat("<p>word</p>", 100), true},
		{"script", "a<script>x</script>b", false},
		{"title is raw text", "<title>a</p>b</title>", false},
		{"comment", "a<!-- x -->b", false},
		{"stray less-than", "a < b", false},
		{"cut-off tag", "text <a href=", false},
		{"quote in unquoted value", `<a href=x"y>z</a>`, false},
		{"unknown tag", "<custom-tag>x</custom-tag>", false},
		{"end tag with attribute", "<p>x</p class=y>", false},
		{"attribute glued to value", `<a href="x"title="y">z</a>`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fast, took, slow := plainBoth(tt.in, 200)
			if took != tt.take {
				t.Errorf("fast path took %q: %v, want %v", tt.in, took, tt.take)
			}
			if took && fast != slow {
				t.Errorf("fast path gave %q, tokenizer %q", fast, slow)
			}
			if got := PlainText(tt.in, 200); got != slow {
				t.Errorf("PlainText = %q, tokenizer %q", got, slow)
			}
		})
	}
}

// TestPlainSimpleOnFixtures runs both paths over every title, summary and
// content of the real feeds in ../shared: they must agree wherever the
// fast path takes the text, and it must take most summaries (or it saves
// nothing).
func TestPlainSimpleOnFixtures(t *testing.T) {
	dir := feedFixtures(t)
	var fields, took int
	for _, tc := range fixtureCases {
		if tc.parseError {
			continue
		}
		body, err := os.ReadFile(filepath.Join(dir, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		feed, err := ParseFeed(body, tc.contentType)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		for _, it := range feed.Items {
			for _, s := range []string{it.Title, it.Description, it.Content} {
				if !strings.ContainsAny(s, "<&") {
					continue
				}
				fast, ok, slow := plainBoth(s, MaxContent)
				fields++
				if ok {
					took++
					if fast != slow {
						t.Errorf("%s: fast path gave %q,\ntokenizer %q", tc.file, fast, slow)
					}
				}
			}
		}
	}
	t.Logf("fast path took %d of %d fields with markup", took, fields)
	if fields == 0 || took*2 < fields {
		t.Errorf("fast path took %d of %d fields with markup, want at least half", took, fields)
	}
}

// FuzzPlainSimple: whenever the fast path takes an input, its text is the
// tokenizer's, at any cap.
func FuzzPlainSimple(f *testing.F) {
	f.Add("<p>Amazon &amp; ICE</p><br/>x", 100)
	f.Add(`<a href="u?a=1&b=2" title='>'>t</a> &#8217;&eacute;`, 7)
	f.Add("<P CLASS=x>a</P\t>\r\nb<wbr>c", 3)
	f.Add("a<b>b</b >c<i\f>d</i>&amp", 50)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max <= 0 || max > 1000 {
			max = 1000
		}
		if fast, took, slow := plainBoth(s, max); took && fast != slow {
			t.Errorf("fast path gave %q, tokenizer %q", fast, slow)
		}
	})
}

func FuzzNormalise(f *testing.F) {
	f.Add("g", "https://x.test/a?utm_source=1", "<b>T</b>", "<p>s</p>", "c", "Seg, 24 Set 2018 19:18:49 -0300", "g")
	f.Add("", "", "", "summary only", "", "", "")
	f.Add("x", "/rel", "A", "", "", "", "x")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, guid, link, title, desc, content, published, guid2 string) {
		feed := &gofeed.Feed{Title: title, Link: link, Items: []*gofeed.Item{
			{GUID: guid, Link: link, Title: title, Description: desc, Content: content, Published: published},
			{GUID: guid2, Link: link, Title: desc, Description: title, Published: published},
			{GUID: guid, Link: content, Title: title, Updated: published},
		}}
		checkItemsInvariants(t, Normalise(Source{Name: "f", URL: "https://src.test/feed"}, feed, now), now)
	})
}

// TestNormaliseBoundsGUID: the package promises every text field of an item
// is of bounded length; a hostile GUID of megabytes must not be stored whole,
// while two long GUIDs that differ only past the bound keep distinct keys.
func TestNormaliseBoundsGUID(t *testing.T) {
	long := strings.Repeat("g", 1<<20)
	tests := []struct {
		name  string
		guids []string
	}{
		{"one huge guid", []string{long}},
		{"differ past the bound", []string{long + "1", long + "2"}},
	}
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in []*gofeed.Item
			for i, g := range tt.guids {
				in = append(in, &gofeed.Item{GUID: g, Title: "T" + strconv.Itoa(i)})
			}
			items := Normalise(Source{Name: "s"}, &gofeed.Feed{Items: in}, now)
			keys := map[string]bool{}
			for _, it := range items {
				if len(it.GUID) > maxGUID || len(it.Key) > maxGUID {
					t.Errorf("guid of %d bytes, key of %d bytes; want at most %d", len(it.GUID), len(it.Key), maxGUID)
				}
				keys[it.Key] = true
			}
			if len(items) != len(tt.guids) || len(keys) != len(tt.guids) {
				t.Errorf("%d items with %d distinct keys, want %d", len(items), len(keys), len(tt.guids))
			}
		})
	}
}
