// Package shared locates ../shared, the folder of real data (feeds,
// procurement payloads, labelled headlines, the timeline schema) that sits
// beside the project root in development and CI but not in a user's fresh
// clone. Tests that need it skip with a message saying what is missing, so
// a fresh clone still passes.
package shared

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Root returns the module root: the nearest folder at or above the working
// directory that holds go.mod (a test runs in its package's folder).
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Find returns ../shared/sub beside the module root and whether it exists.
// Fuzz seeding uses it, where a missing folder means fewer seeds, not a skip.
func Find(sub string) (string, bool) {
	root, err := Root()
	if err != nil {
		return "", false
	}
	p := filepath.Join(filepath.Dir(root), "shared", sub)
	_, err = os.Stat(p)
	return p, err == nil
}

// Dir returns ../shared/sub beside the module root, or skips tb saying
// what is absent.
func Dir(tb testing.TB, sub string) string {
	tb.Helper()
	p, ok := Find(sub)
	if !ok {
		tb.Skipf("%s is absent: the real-data fixtures live in ../shared beside the project (present in CI)", filepath.Join("../shared", sub))
	}
	return p
}

// File reads ../shared/sub, or skips tb when it is absent.
func File(tb testing.TB, sub string) []byte {
	tb.Helper()
	p := Dir(tb, filepath.Dir(sub))
	b, err := os.ReadFile(filepath.Join(p, filepath.Base(sub)))
	if err != nil {
		tb.Skipf("../shared/%s is absent: %v", sub, err)
	}
	return b
}
