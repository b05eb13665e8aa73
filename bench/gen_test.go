package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/mmcdole/gofeed"
	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/rules"
)

func TestGeneratorFeeds(t *testing.T) {
	g := NewGenerator(GenOptions{Items: 20})
	cases := []struct {
		name          string
		feed, version int
		first, last   int // item ids
	}{
		{"feed 0 version 0", 0, 0, 0, 19},
		{"feed 7 version 1 gains two", 7, 1, 2, 21},
		{"feed 12345 version 3", 12345, 3, 6, 25},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := g.AppendFeed(nil, tc.feed, tc.version)
			if again := g.AppendFeed(nil, tc.feed, tc.version); !bytes.Equal(body, again) {
				t.Fatal("two renderings differ")
			}
			f, err := gofeed.NewParser().Parse(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if len(f.Items) != 20 {
				t.Fatalf("%d items, want 20", len(f.Items))
			}
			prefix := "outlet" + strconv.Itoa(tc.feed) + "-story-"
			if got, want := f.Items[0].GUID, prefix+strconv.Itoa(tc.last); got != want {
				t.Errorf("newest GUID %q, want %q", got, want)
			}
			if got, want := f.Items[19].GUID, prefix+strconv.Itoa(tc.first); got != want {
				t.Errorf("oldest GUID %q, want %q", got, want)
			}
			for _, it := range f.Items {
				if it.Title == "" || it.Description == "" || it.PublishedParsed == nil {
					t.Fatalf("item %s lacks title, description or date", it.GUID)
				}
			}
		})
	}
}

// moduleRoot walks up from the working directory to go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// shippedMatcher builds the matcher of examples/rules/watch.yaml.
func shippedMatcher(t *testing.T) *rules.Matcher {
	t.Helper()
	pack := filepath.Join(moduleRoot(t), "examples", "rules", "watch.yaml")
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte("include: ["+strconv.Quote(pack)+"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("load shipped rules: %v", err)
	}
	m, err := rules.NewMatcher(cfg.Watch)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestOnlyMatchingItemsMatchTheShippedRules checks the generator's promise:
// every composed story matches a rule of the shipped pack, and none of the
// ordinary text does, so the share of candidates is what MatchShare says.
func TestOnlyMatchingItemsMatchTheShippedRules(t *testing.T) {
	m := shippedMatcher(t)
	g := NewGenerator(GenOptions{})
	t.Run("composed stories match", func(t *testing.T) {
		for e := range uint64(300) {
			title, lead := hotTitle(mix(e))
			if ms := m.Match(&model.Item{Title: title, Summary: lead}); len(ms) == 0 {
				t.Errorf("story %q matches no rule", title)
			}
		}
	})
	t.Run("ordinary titles and sentences do not", func(t *testing.T) {
		for _, s := range g.titles {
			if ms := m.Match(&model.Item{Title: s}); len(ms) > 0 {
				t.Errorf("title %q matches rule %s", s, ms[0].Rule)
			}
		}
		for i := 0; i+2 < len(g.sentences); i += 3 {
			text := g.sentences[i] + " " + g.sentences[i+1] + " " + g.sentences[i+2]
			if ms := m.Match(&model.Item{Summary: text}); len(ms) > 0 {
				t.Errorf("summary %q matches rule %s", text, ms[0].Rule)
			}
		}
	})
	t.Run("share and syndication", func(t *testing.T) {
		hot := 0
		for f := range 400 {
			for id := range 50 {
				if g.IsMatching(f, id) {
					hot++
					if !g.IsMatching(f/syndication*syndication, id) {
						t.Fatalf("feed %d item %d matches but its cluster's first feed does not", f, id)
					}
				}
			}
		}
		if share := float64(hot) / 20000; share < 0.01 || share > 0.03 {
			t.Errorf("matching share %.3f, want about 0.02", share)
		}
	})
}
