package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/tierwatch/tierwatch/internal/shared"
)

// sharedDir returns ../shared/sub beside the module root, or skips.
func sharedDir(t *testing.T, sub string) string { return shared.Dir(t, sub) }

// TestOnceOverEveryRealFeedFixture polls every real feed of
// ../shared/fixtures/feeds in one cycle next to a healthy HTTP feed: each
// fixture yields items or fails with a classified error naming it, and
// the cycle goes on with the others.
func TestOnceOverEveryRealFeedFixture(t *testing.T) {
	feeds := sharedDir(t, "fixtures/feeds")
	entries, err := os.ReadDir(feeds)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && !strings.HasSuffix(e.Name(), ".md") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	srv := newFeedServer(t, 4)
	urls := []string{srv.URL + "/healthy"}
	for _, n := range names {
		urls = append(urls, "file://"+filepath.Join(feeds, n))
	}
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "", urls...)
	out, errOut, code := tw(t, cfg, "once")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	failed := map[string]string{}
	for _, m := range regexp.MustCompile(`FAILED (feed-\d+) \((\w+)\)`).FindAllStringSubmatch(out, -1) {
		failed[m[1]] = m[2]
	}
	items := storedItems(t, filepath.Join(dir, "state"))
	perSource := map[string]int{}
	for _, it := range items {
		perSource[it.Source]++
	}
	if perSource["feed-0"] != 4 {
		t.Errorf("the healthy feed stored %d items, want 4", perSource["feed-0"])
	}
	for i, n := range names {
		src := fmt.Sprintf("feed-%d", i+1)
		switch class, bad := failed[src]; {
		case bad && class == "":
			t.Errorf("%s (%s) failed without a class", src, n)
		case bad:
			t.Logf("%s: failed, class %s", n, class)
			if perSource[src] != 0 {
				t.Errorf("%s failed but stored %d items", n, perSource[src])
			}
		case perSource[src] == 0:
			t.Errorf("%s neither failed nor yielded items", n)
		default:
			t.Logf("%s: %d items", n, perSource[src])
		}
	}
	// The one fixture known to be truncated must be the failing one.
	for i, n := range names {
		if strings.Contains(n, "truncated") {
			if failed[fmt.Sprintf("feed-%d", i+1)] != "parse" {
				t.Errorf("%s did not fail as a parse error: %s", n, out)
			}
		}
	}
	// Undeclared Latin-1 must come out with its accents.
	var uol []string
	for _, it := range items {
		if strings.Contains(it.URL, "uol.com.br") {
			uol = append(uol, it.Title)
		}
	}
	if joined := strings.Join(uol, " "); len(uol) == 0 || !strings.ContainsAny(joined, "ãçéáõí") || strings.ContainsRune(joined, '\uFFFD') {
		t.Errorf("UOL titles lost their accents: %q", uol)
	}
}
