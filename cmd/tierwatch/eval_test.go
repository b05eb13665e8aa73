package main

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/internal/evalset"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/storage"
)

// Targets of issue 3 on the dev set.
const (
	minPrecision      = 0.95
	minRecall         = 0.90
	minGroupPrecision = 0.95
	minGroupRecall    = 0.60
)

// rssItem and friends render an eval item as an RSS item, escaped by
// encoding/xml.
type rssDoc struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title string    `xml:"title"`
	Link  string    `xml:"link"`
	Items []rssItem `xml:"item"`
}

type rssItem struct {
	Title       string  `xml:"title"`
	Link        string  `xml:"link"`
	Description string  `xml:"description,omitempty"`
	PubDate     string  `xml:"pubDate"`
	GUID        rssGUID `xml:"guid"`
}

type rssGUID struct {
	Value     string `xml:",chardata"`
	Permalink string `xml:"isPermaLink,attr"`
}

// TestEvalThroughThePollCycle serves ../shared/eval/dev.jsonl as RSS feeds,
// one per publisher domain, polls them with the real binary and the
// shipped rules pack, and measures matching and grouping from the store.
func TestEvalThroughThePollCycle(t *testing.T) {
	dev := filepath.Join(sharedDir(t, "eval"), "dev.jsonl")
	items, err := evalset.Load(dev)
	if err != nil {
		t.Fatal(err)
	}
	byDomain := map[string][]evalset.Item{}
	for _, it := range items {
		byDomain[it.Domain] = append(byDomain[it.Domain], it)
	}
	docs := map[string][]byte{}
	var domains []string
	for d, its := range byDomain {
		domains = append(domains, d)
		ch := rssChannel{Title: its[0].Publisher, Link: "https://" + d + "/"}
		for _, it := range its {
			ch.Items = append(ch.Items, rssItem{
				Title: it.Title, Link: it.URL, Description: it.Summary,
				PubDate: it.Date().Add(12 * time.Hour).Format(time.RFC1123Z),
				GUID:    rssGUID{Value: it.ID, Permalink: "false"},
			})
		}
		b, err := xml.Marshal(rssDoc{Version: "2.0", Channel: ch})
		if err != nil {
			t.Fatal(err)
		}
		docs[d] = append([]byte(xml.Header), b...)
	}
	sort.Strings(domains)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := docs[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.Write(b)
	}))
	defer srv.Close()

	root, _ := filepath.Abs("../..")
	var urls []string
	for _, d := range domains {
		urls = append(urls, srv.URL+"/"+d)
	}
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "include: ["+filepath.Join(root, "examples/rules/watch.yaml")+"]\n", urls...)
	out, errOut, code := tw(t, cfg, "once")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("%d new", len(items))) {
		t.Fatalf("once: exit %d, want all %d items new\n%s\n%s", code, len(items), out, lastLines(errOut, 20))
	}

	results := resultsFromStore(t, filepath.Join(dir, "state"))
	rep := evalset.Measure(items, results)
	t.Logf("eval through the poll cycle (%d feeds, %d items):\n%s", len(domains), len(items), rep)
	for _, in := range evalset.Intents {
		c := rep.Intents[in]
		if c.Precision() < minPrecision || c.Recall() < minRecall {
			t.Errorf("%s: precision %.3f (min %.2f), recall %.3f (min %.2f); false positives %v, false negatives %v",
				in, c.Precision(), minPrecision, c.Recall(), minRecall, c.FalsePos, c.FalseNeg)
		}
	}
	if p := rep.Grouping; p.Precision() < minGroupPrecision || p.Recall() < minGroupRecall {
		t.Errorf("grouping: precision %.3f (min %.2f), recall %.3f (min %.2f)", p.Precision(), minGroupPrecision, p.Recall(), minGroupRecall)
	}
}

// resultsFromStore maps eval ids (the feed GUIDs) to the rules that
// matched them and their candidate.
func resultsFromStore(t *testing.T, stateDir string) map[string]evalset.Result {
	t.Helper()
	st, err := storage.Open(stateDir, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	guid := map[string]string{} // source/key -> eval id
	err = st.Items(context.Background(), time.Time{}, func(it model.Item) error {
		guid[it.Source+"/"+it.Key] = it.GUID
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cands, err := st.Candidates("")
	if err != nil {
		t.Fatal(err)
	}
	results := map[string]evalset.Result{}
	for _, c := range cands {
		for _, m := range c.Matches {
			id, ok := guid[m.Source+"/"+m.ItemKey]
			if !ok {
				t.Fatalf("candidate %s holds a match of unknown item %s/%s", c.ID, m.Source, m.ItemKey)
			}
			r := results[id]
			if r.Candidate != "" && r.Candidate != c.ID {
				t.Errorf("item %s is in two candidates: %s and %s", id, r.Candidate, c.ID)
			}
			r.Candidate = c.ID
			r.Rules = appendNew(r.Rules, m.Rule)
			results[id] = r
		}
	}
	return results
}

func appendNew(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
