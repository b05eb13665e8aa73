package timeline

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// sharedDir returns ../shared relative to the module root, or skips.
func sharedDir(t testing.TB, sub string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the test directory, so ../shared cannot be located")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", sub)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data %s is absent (%v); it holds the timeline README", p, err)
	}
	return p
}

var exampleRe = regexp.MustCompile("(?s)An example of the shape.*?```\n(.*?)```")

// readmeExample returns the example event file of the timeline README.
func readmeExample(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(sharedDir(t, "timeline"), "README.md"))
	if err != nil {
		t.Fatalf("read README: %v", err)
	}
	m := exampleRe.FindSubmatch(data)
	if m == nil {
		t.Fatal("README has no example event block")
	}
	return m[1]
}

// testToday is the injected "today" of the tests.
var testToday = time.Date(2025, 11, 20, 12, 0, 0, 0, time.UTC)
