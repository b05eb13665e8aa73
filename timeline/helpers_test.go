package timeline

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/internal/shared"
)

// sharedDir returns ../shared/sub, or skips.
func sharedDir(t testing.TB, sub string) string { return shared.Dir(t, sub) }

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
