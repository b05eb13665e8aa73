package shared

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRootAndFind(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("Root %s holds no go.mod", root)
	}
	if p, ok := Find("no-such-folder-here"); ok {
		t.Errorf("Find reported %s present", p)
	}
	// Dir skips, rather than fails, when the folder is absent.
	ran := t.Run("absent", func(t *testing.T) {
		Dir(t, "no-such-folder-here")
		t.Error("Dir did not skip")
	})
	if !ran {
		t.Error("the subtest failed instead of skipping")
	}
}
