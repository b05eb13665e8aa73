package monitor

import (
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

var _ gofeed.Item
