package timeline

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse and Validate. Neither may panic,
// and whatever Parse accepts must survive Render and Parse unchanged.
func FuzzParse(f *testing.F) {
	golden, err := filepath.Glob(filepath.Join("testdata", "*.md"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range golden {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"", "---", "---\n---\n", "---\r\nid: x\r\n---\r\nbody",
		"---\nimportance: high\n---\n",
		"---\nsources:\n- url: a\n  tier: 99999999999999999999\n---\n",
		"---\nactors: &a [x, *a]\n---\n",
		"---\ntitle: \"a\\nb\"\ndate: 2018-06-15\n---\n",
		"\ufeff---\ntags: [B, a]\n---\n--- \nx",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = Validator{Today: testToday}.Validate("f.md", data) // must not panic
		_ = fileURLs(data)                                     // must not panic
		e, err := Parse(data)
		if err != nil {
			return
		}
		out, err := Render(e)
		if err != nil {
			return // only invalid UTF-8 in a field, which Render refuses
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Render(e)) failed: %v\n%s", err, out)
		}
		if !sameEvent(back, e) {
			t.Fatalf("round trip changed the event:\ngot  %#v\nwant %#v\nfile:\n%s", back, e, out)
		}
	})
}
